import { Body, Controller, Get, HttpCode, Inject, Post } from '@nestjs/common';
import { devTokenRequestSchema, type DevTokenRequest, type Me } from '@switchboard/contracts';
import type { AppConfig } from '@switchboard/server-core';
import { AppError } from '../common/app-error.js';
import { ZodValidationPipe } from '../common/zod-validation.pipe.js';
import { APP_CONFIG } from '../config/tokens.js';
import { LocalIssuerService } from './local-issuer.service.js';
import { CurrentPrincipal, type Principal, Public } from './principal.js';

@Controller()
export class AuthController {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly issuer: LocalIssuerService,
  ) {}

  @Public()
  @Get('.well-known/jwks.json')
  jwks() {
    if (this.config.auth.mode !== 'local') throw new AppError('not_found', 'This API is not a token issuer in oidc mode');
    return this.issuer.jwks();
  }

  /** Local mode only: a signed token for any username (development and tests). */
  @Public()
  @Post('v1/auth/dev-token')
  @HttpCode(200)
  devToken(@Body(new ZodValidationPipe(devTokenRequestSchema)) body: DevTokenRequest) {
    if (this.config.auth.mode !== 'local') throw new AppError('not_found', 'dev-token exists only in local auth mode');
    return this.issuer.issue(body);
  }

  @Get('v1/me')
  me(@CurrentPrincipal() principal: Principal): Me {
    return { sub: principal.sub, username: principal.username, groups: principal.groups, scopes: principal.scopes };
  }
}
