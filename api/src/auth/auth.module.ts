import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { PassportModule } from '@nestjs/passport';
import { AuthController } from './auth.controller.js';
import { JwtAuthGuard } from './jwt-auth.guard.js';
import { JwtStrategy } from './jwt.strategy.js';
import { LocalIssuerService } from './local-issuer.service.js';

@Module({
  imports: [PassportModule],
  controllers: [AuthController],
  providers: [LocalIssuerService, JwtStrategy, { provide: APP_GUARD, useClass: JwtAuthGuard }],
  exports: [LocalIssuerService],
})
export class AuthModule {}
