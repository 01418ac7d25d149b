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
export function remoteKeySet(url: URL, refreshMs: number): JWTVerifyGetKey & { fetches(): number } {
  let fetches = 0;
  let failedAt = Number.NEGATIVE_INFINITY;
  const remote = createRemoteJWKSet(url, {
    cooldownDuration: refreshMs,
    cacheMaxAge: keysMaxAgeMs,
    timeoutDuration: fetchTimeoutMs,
    [customFetch]: async (input: string | URL | Request, init?: RequestInit) => {
      fetches++;
      try {
        const res = await fetch(input, init);
        if (res.status !== 200) failedAt = Date.now();
        return res;
      } catch (err) {
        failedAt = Date.now();
        throw err;
      }
    },
  });
  const getKey = async (header: Parameters<JWTVerifyGetKey>[0], token: Parameters<JWTVerifyGetKey>[1]) => {
    const last = remote.jwks();
    const known = !!last && last.keys.some((k: JWK) => k.kid !== undefined && k.kid === header.kid);
    // jose's cooldown counts from the last successful fetch: after a failed one, unknown kids wait too.
    if (!known && Date.now() - failedAt < refreshMs) throw noKey();
    const startedAt = Date.now();
    try {
      return await remote(header, token);
    } catch (err) {
      if (known && failedAt >= startedAt) return createLocalJWKSet(last)(header, token);
      throw err;
    }
  };
  return Object.assign(getKey, { fetches: () => fetches });
}

function noKey(): Error {
  return new errors.JWKSNoMatchingKey('no key matches the token, and the JWKS could not be fetched moments ago');
}
