import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { Principal } from './principal.js';

export type VerifiedToken = { principal: Principal; /** the token's `exp`, in ms */ expiresAt: number };

/**
 * Tokens already verified, until they expire: a client sends the same bearer token on every
 * request, and checking its RS256 signature each time costs about as much as the request's own
 * work. Keyed by the token's SHA-256, so only a byte-identical token hits, and the cache (as large
 * as the number of open sockets) does not keep every raw token, about a kilobyte each.
 */
export class VerifiedTokens {
  private readonly cache = new LRUCache<string, VerifiedToken>({ max: 10_000 });

  get(token: string): VerifiedToken | undefined {
    const key = digest(token);
    const hit = this.cache.get(key);
    if (!hit) return undefined;
    if (hit.expiresAt <= Date.now()) {
      this.cache.delete(key);
      return undefined;
    }
    return hit;
  }

  /** Remembers a token that passed verification, until its `exp`. */
  remember(token: string, verified: VerifiedToken): void {
    if (verified.expiresAt > Date.now()) this.cache.set(digest(token), verified);
  }
}

const digest = (token: string) => createHash('sha256').update(token).digest('base64url');
