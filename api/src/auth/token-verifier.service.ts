import { Inject, Injectable, Optional } from '@nestjs/common';
import { createLocalJWKSet, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import type { AppConfig } from '@switchboard/server-core';
import { AuditService } from '../audit/audit.service.js';
import { AppError } from '../common/app-error.js';
import { APP_CONFIG } from '../config/tokens.js';
import { remoteKeySet } from './jwks-key-set.js';
import { localAudience, localIssuer, LocalIssuerService } from './local-issuer.service.js';
import { principalFromClaims } from './principal.js';
import { type VerifiedToken, VerifiedTokens } from './verified-tokens.js';

const tokenUses = new Set(['access', 'id']);

/**
 * The one place bearer tokens are verified, for REST and Socket.IO alike: RS256 signature against
 * the issuer's JWKS (in local mode the API's own key), issuer, `exp` (required in every mode),
 * audience (`aud` of ID tokens, `client_id` of Cognito access tokens) and `token_use`.
 */
@Injectable()
export class TokenVerifier {
  private readonly verified = new VerifiedTokens();
  private readonly issuer: string;
  private readonly audiences: string[];
  private keys?: JWTVerifyGetKey;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly localIssuerService: LocalIssuerService,
    @Optional() private readonly audit?: AuditService,
  ) {
    const local = config.auth.mode === 'local';
    this.issuer = local ? localIssuer : config.auth.issuer!;
    this.audiences = local ? [localAudience] : config.auth.audiences;
  }

  /** The principal and expiry of a valid token; AppError `unauthorized` otherwise. */
  async verify(token: string): Promise<VerifiedToken> {
    const known = this.verified.get(token);
    if (known) return known;
    let claims: JWTPayload;
    try {
      ({ payload: claims } = await jwtVerify(token, this.keySet(), {
        issuer: this.issuer,
        algorithms: ['RS256'],
        requiredClaims: ['exp', 'sub'],
      }));
    } catch {
      throw new AppError('unauthorized', 'Invalid or expired token');
    }
    if (!this.acceptable(claims)) throw new AppError('unauthorized', 'Invalid or expired token');
    const verified = { principal: principalFromClaims(claims), expiresAt: claims.exp! * 1000 };
    this.verified.remember(token, verified);
    // An admin's session starts here (first time any node sees the token): audited once, not awaited.
    void this.audit?.adminSeen(verified.principal, token, verified.expiresAt);
    return verified;
  }

  private acceptable(claims: JWTPayload): boolean {
    if (typeof claims.sub !== 'string' || claims.sub.length === 0) return false;
    const use = claims.token_use;
    if (use !== undefined && !(typeof use === 'string' && tokenUses.has(use))) return false;
    const aud = Array.isArray(claims.aud) ? claims.aud : typeof claims.aud === 'string' ? [claims.aud] : [];
    // Cognito: ID tokens name the client in `aud`, access tokens in `client_id`; other IdPs either.
    const given = use === 'id' ? aud : use === 'access' ? [claims.client_id] : [...aud, claims.client_id];
    return given.some((a) => typeof a === 'string' && this.audiences.includes(a));
  }

  private keySet(): JWTVerifyGetKey {
    if (this.keys) return this.keys;
    if (this.config.auth.mode === 'local') {
      this.keys = createLocalJWKSet(this.localIssuerService.jwks());
    } else {
      const url = new URL(this.config.auth.jwksUrl ?? `${this.issuer}/.well-known/jwks.json`);
      this.keys = remoteKeySet(url, this.config.auth.jwksRefreshMs);
    }
    return this.keys;
  }
}
