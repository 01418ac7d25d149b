import { createLocalJWKSet, createRemoteJWKSet, customFetch, errors, type JWK, type JWTVerifyGetKey } from 'jose';

/** How long fetched keys are used before the JWKS is fetched again (a removed key stops working then). */
const keysMaxAgeMs = 10 * 60_000;
const fetchTimeoutMs = 5000;

/**
 * The IdP's signing keys (jose's remote JWKS): known keys verify from the cached set; a token with
 * an unknown `kid` refetches the set at most once per `refreshMs`, so a flood of forged kids costs
 * one fetch per interval and never blocks the keys already known; a rotated key works after at
 * most `refreshMs`. While the IdP cannot be reached, keys it published before keep verifying.
 */
export function remoteKeySet(url: URL, refreshMs: number, maxAgeMs = keysMaxAgeMs): JWTVerifyGetKey & { fetches(): number } {
  let fetches = 0;
  let fetched = 0;
  let failedAt = Number.NEGATIVE_INFINITY;
  const remote = createRemoteJWKSet(url, {
    cooldownDuration: refreshMs,
    cacheMaxAge: maxAgeMs,
    timeoutDuration: fetchTimeoutMs,
    [customFetch]: async (input: string | URL | Request, init?: RequestInit) => {
      fetches++;
      try {
        const res = await fetch(input, init);
        if (res.status === 200) fetched++;
        else failedAt = Date.now();
        return res;
      } catch (err) {
        failedAt = Date.now();
        throw err;
      }
    },
  });
  // The keys of the last good fetch, for when the IdP cannot be reached (rebuilt once per fetch).
  let fallback: { version: number; kids: Set<unknown>; keys: JWTVerifyGetKey } | undefined;
  const lastKnown = () => {
    const jwks = remote.jwks();
    if (!jwks) return undefined;
    if (fallback?.version !== fetched) fallback = { version: fetched, kids: new Set(jwks.keys.map((k: JWK) => k.kid)), keys: createLocalJWKSet(jwks) };
    return fallback;
  };
  const getKey = async (header: Parameters<JWTVerifyGetKey>[0], token: Parameters<JWTVerifyGetKey>[1]) => {
    // jose's cooldown counts from the last successful fetch: after a failed one, wait out the
    // interval too, answering from the keys last fetched (no request waits on a dead IdP).
    if (Date.now() - failedAt < refreshMs) {
      const last = lastKnown();
      if (!last || header.kid === undefined || !last.kids.has(header.kid)) throw noKey();
      return last.keys(header, token);
    }
    const startedAt = Date.now();
    try {
      return await remote(header, token);
    } catch (err) {
      const last = failedAt >= startedAt ? lastKnown() : undefined;
      if (last && header.kid !== undefined && last.kids.has(header.kid)) return last.keys(header, token);
      throw err;
    }
  };
  return Object.assign(getKey, { fetches: () => fetches });
}

function noKey(): Error {
  return new errors.JWKSNoMatchingKey('no key matches the token, and the JWKS could not be fetched moments ago');
}
