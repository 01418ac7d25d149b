import { randomUUID } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { exportJWK, generateKeyPair, importJWK, type JWK, SignJWT } from 'jose';
import type { DevTokenRequest, DevTokenResponse } from '@switchboard/contracts';
import type { AppConfig } from '@switchboard/server-core';
import { APP_CONFIG } from '../config/tokens.js';

export const localIssuer = 'urn:switchboard:local';
export const localAudience = 'switchboard';
const tokenLifetimeSeconds = 12 * 60 * 60;

/**
 * Local mode: the API is its own token issuer. The RS256 key lives in DATA_DIR so every API
 * process sharing that directory signs and verifies with the same key.
 */
@Injectable()
export class LocalIssuerService implements OnModuleInit {
  private privateKey!: Awaited<ReturnType<typeof importJWK>>;
  private publicJwk!: JWK;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  async onModuleInit() {
    if (this.config.auth.mode !== 'local') return;
    const privateJwk = await this.loadOrCreateKey();
    this.privateKey = await importJWK(privateJwk, 'RS256');
    const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...publicJwk } = privateJwk;
    this.publicJwk = { ...publicJwk, use: 'sig', alg: 'RS256' };
  }

  jwks(): { keys: JWK[] } {
    return { keys: this.config.auth.mode === 'local' ? [this.publicJwk] : [] };
  }

  async issue(req: DevTokenRequest): Promise<DevTokenResponse> {
    const token = await new SignJWT({
      username: req.username,
      groups: req.groups ?? [],
      scope: (req.scopes ?? []).join(' '),
    })
      .setProtectedHeader({ alg: 'RS256', kid: this.publicJwk.kid!, typ: 'JWT' })
      .setSubject(`local:${req.username}`)
      .setIssuer(localIssuer)
      .setAudience(localAudience)
      .setIssuedAt()
      .setJti(randomUUID())
      .setExpirationTime(`${tokenLifetimeSeconds}s`)
      .sign(this.privateKey);
    return { access_token: token, token_type: 'Bearer', expires_in: tokenLifetimeSeconds };
  }

  private async loadOrCreateKey(): Promise<JWK> {
    const file = join(this.config.dataDir, 'local-signing-key.json');
    try {
      return JSON.parse(readFileSync(file, 'utf8')) as JWK;
    } catch {
      mkdirSync(this.config.dataDir, { recursive: true });
      const { privateKey } = await generateKeyPair('RS256', { extractable: true, modulusLength: 2048 });
      const jwk = { ...(await exportJWK(privateKey)), kid: randomUUID(), alg: 'RS256' };
      // Write aside, then link into place: link fails if another process won the race.
      const temp = `${file}.${process.pid}.tmp`;
      writeFileSync(temp, JSON.stringify(jwk), { mode: 0o600 });
      try {
        linkSync(temp, file);
      } catch {
        /* another process created it first; use theirs */
      } finally {
        unlinkSync(temp);
      }
      return JSON.parse(readFileSync(file, 'utf8')) as JWK;
    }
  }
}
