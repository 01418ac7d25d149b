import { randomUUID } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
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
  private readonly logger = new Logger('LocalAuth');
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

  /**
   * A token for any user name. Requested groups are ignored: the admin group goes only to the
   * names in AUTH_LOCAL_ADMINS, so picking a name is all local sign-in lets anyone do.
   */
  async issue(req: DevTokenRequest): Promise<DevTokenResponse> {
    if (this.config.auth.localInsecure) {
      this.logger.warn(
        `INSECURE: a dev-token was issued on a non-loopback listener (AUTH_LOCAL_INSECURE=true): anyone who reaches ${this.config.host}:${this.config.port} can sign in as anyone`,
      );
    }
    const admin = this.config.auth.localAdmins.includes(req.username);
    const token = await new SignJWT({
      username: req.username,
      groups: admin ? [this.config.auth.adminGroup] : [],
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
