import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, jwtVerify, SignJWT } from 'jose';
import { remoteKeySet } from './jwks-key-set.js';

/** A JWKS endpoint at the edge (the IdP), which the test can take down. */
async function jwksServer() {
  const { privateKey, publicKey } = await generateKeyPair('RS256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
  let up = true;
  const server: Server = createServer((_, res) => {
    if (!up) return res.writeHead(503).end();
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ keys: [jwk] }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`);
  const sign = (kid = 'k1') => new SignJWT({ sub: 's' }).setProtectedHeader({ alg: 'RS256', kid }).setExpirationTime('5m').sign(privateKey);
  return { url, sign, down: () => (up = false), close: () => new Promise((r) => server.close(r)) };
}

describe('remoteKeySet', () => {
  it('keeps verifying known keys while the IdP is down, and refuses unknown kids without hammering it', async () => {
    const idp = await jwksServer();
    try {
      const keys = remoteKeySet(idp.url, 60_000, 50);
      await jwtVerify(await idp.sign(), keys);
      expect(keys.fetches()).toBe(1);
      idp.down();
      await new Promise((r) => setTimeout(r, 80)); // the cached set is now due for a refetch
      await jwtVerify(await idp.sign(), keys); // the refetch fails; the known key still verifies
      const fetchesAfterOutage = keys.fetches();
      expect(fetchesAfterOutage).toBe(2);
      await jwtVerify(await idp.sign(), keys); // within the interval: no new fetch
      for (let i = 0; i < 5; i++) await expect(jwtVerify(await idp.sign(`forged-${i}`), keys)).rejects.toThrow();
      // After a failed fetch, requests wait out the refresh interval instead of fetching again.
      expect(keys.fetches()).toBe(fetchesAfterOutage);
    } finally {
      await idp.close();
    }
  });
});
