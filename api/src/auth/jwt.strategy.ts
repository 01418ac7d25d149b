import { Inject, Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { passportJwtSecret } from 'jwks-rsa';
import { ExtractJwt, Strategy } from 'passport-jwt';
import type { AppConfig } from '@switchboard/server-core';
import { APP_CONFIG } from '../config/tokens.js';
import { localAudience, localIssuer, LocalIssuerService } from './local-issuer.service.js';
import { type Principal, principalFromClaims } from './principal.js';

/**
 * Verifies every bearer token against a JWKS: the IdP's (Cognito or any OIDC issuer) or, in local
 * mode, the API's own key set through the same code path.
 */
@Injectable()
export class JwtStrategy extends PassportStrategy(Strategy, 'jwt') {
  private readonly audiences: string[];

  constructor(@Inject(APP_CONFIG) config: AppConfig, localIssuerService: LocalIssuerService) {
    const local = config.auth.mode === 'local';
    const issuer = local ? localIssuer : config.auth.issuer!;
    const jwksUri = config.auth.jwksUrl ?? `${issuer}/.well-known/jwks.json`;
    super({
      jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
      issuer,
      algorithms: ['RS256'],
      ignoreExpiration: false,
      secretOrKeyProvider: passportJwtSecret({
        jwksUri,
        cache: true,
        cacheMaxAge: 10 * 60 * 1000,
        rateLimit: true,
        jwksRequestsPerMinute: 10,
        ...(local ? { fetcher: async () => localIssuerService.jwks() } : {}),
      }),
    });
    this.audiences = local ? [localAudience] : config.auth.audiences;
  }

  /** Cognito ID tokens carry `aud`; access tokens carry `client_id` instead (portal and batch clients). */
  validate(claims: Record<string, unknown>): Principal | false {
    if (this.audiences.length > 0) {
      const aud = claims.aud;
      const given = [...(Array.isArray(aud) ? aud : typeof aud === 'string' ? [aud] : []), claims.client_id];
      if (!given.some((a) => typeof a === 'string' && this.audiences.includes(a))) return false;
    }
    if (typeof claims.sub !== 'string' || claims.sub.length === 0) return false;
    return principalFromClaims(claims);
  }
}
