import { Controller, Get, Inject } from '@nestjs/common';
import type { ClientConfig, PublicModel } from '@switchboard/contracts';
import type { AppConfig } from '@switchboard/server-core';
import { CurrentPrincipal, type Principal, Public } from '../auth/principal.js';
import { CatalogService } from '../config/catalog.service.js';
import { APP_CONFIG } from '../config/tokens.js';

@Controller('v1')
export class ModelsController {
  constructor(
    private readonly catalog: CatalogService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Only the models the caller's groups may use (`allowedGroups`). */
  @Get('models')
  models(@CurrentPrincipal() principal: Principal): PublicModel[] {
    return this.catalog.publicListFor(principal.groups);
  }

  /** What the portal needs before sign-in. */
  @Public()
  @Get('client-config')
  clientConfig(): ClientConfig {
    const { auth } = this.config;
    const config: ClientConfig = { authMode: auth.mode, bedrockMode: this.config.bedrockMode, version: '0.1.0', adminGroup: auth.adminGroup };
    if (auth.mode === 'oidc' && auth.issuer && auth.clientId) {
      config.oidc = {
        issuer: auth.issuer,
        clientId: auth.clientId,
        ...(auth.endSessionUrl ? { endSessionEndpoint: auth.endSessionUrl } : {}),
        scopes: ['openid', 'email', 'profile'],
      };
    }
    return config;
  }
}
