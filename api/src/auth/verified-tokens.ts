import { LRUCache } from 'lru-cache';
import type { Principal } from './principal.js';

/**
 * Tokens already verified, until they expire: a client sends the same bearer token on every
 * request, and checking its RS256 signature each time costs about as much as the request's own
 * work. Keyed by the exact token string, so only a byte-identical token hits.
 */
export class VerifiedTokens {
  private readonly cache = new LRUCache<string, { principal: Principal; expiresAt: number }>({ max: 10_000 });

  get(token: string): Principal | undefined {
    const hit = this.cache.get(token);
    if (!hit) return undefined;
    if (hit.expiresAt <= Date.now()) {
      this.cache.delete(token);
      return undefined;
    }
    return hit.principal;
  }

  /** Remembers a token that passed verification, until its `exp`. */
  remember(token: string, principal: Principal): void {
    const expiresAt = expiryOf(token);
    if (expiresAt > Date.now()) this.cache.set(token, { principal, expiresAt });
  }
}

function expiryOf(token: string): number {
  try {
    const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as { exp?: unknown };
    return typeof payload.exp === 'number' ? payload.exp * 1000 : 0;
  } catch {
    return 0;
  }
}
