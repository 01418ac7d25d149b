import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { AuthController } from './auth.controller.js';
import { JwtAuthGuard } from './jwt-auth.guard.js';
import { LocalIssuerService } from './local-issuer.service.js';
import { TokenVerifier } from './token-verifier.service.js';

@Module({
  controllers: [AuthController],
  providers: [LocalIssuerService, TokenVerifier, { provide: APP_GUARD, useClass: JwtAuthGuard }],
  exports: [LocalIssuerService, TokenVerifier],
})
export class AuthModule {}
