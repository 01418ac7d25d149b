import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';

type Key = { kid: string; privateKey: CryptoKey; jwk: JWK };

async function newKey(kid = randomUUID()): Promise<Key> {
  const { privateKey, publicKey } = await generateKeyPair('RS256');
  return { kid, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' } };
}

export type SignOptions = { kid?: string; key?: CryptoKey; expiresIn?: string | null; issuer?: string };

/**
 * A stand-in identity provider at the edge: an issuer URL serving a JWKS (like Cognito's), that
 * counts JWKS fetches and can rotate its signing key.
 */
export async function startFakeIdp() {
  let keys: Key[] = [await newKey('idp-key-1')];
  let jwksFetches = 0;
  const server: Server = createServer((req, res) => {
    if (req.url === '/.well-known/jwks.json') {
      jwksFetches++;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ keys: keys.map((k) => k.jwk) }));
    } else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const sign = (claims: Record<string, unknown>, opts: SignOptions = {}) => {
    const current = keys[keys.length - 1]!;
    let jwt = new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', kid: opts.kid ?? current.kid })
      .setIssuer(opts.issuer ?? issuer)
      .setIssuedAt();
    if (opts.expiresIn !== null) jwt = jwt.setExpirationTime(opts.expiresIn ?? '5m');
    return jwt.sign(opts.key ?? current.privateKey);
  };
  return {
    issuer,
    sign,
    /** Publishes a new signing key next to the old one; new tokens use it. */
    rotate: async () => {
      const key = await newKey();
      keys = [...keys, key];
      return key.kid;
    },
    jwksFetches: () => jwksFetches,
    close: () => new Promise((r) => server.close(r)),
  };
}

export type FakeIdp = Awaited<ReturnType<typeof startFakeIdp>>;

/** API settings for oidc mode against the fake IdP: the portal client and a batch client. */
export const oidcEnv = (idp: FakeIdp, extra: Record<string, string> = {}) => ({
  AUTH_MODE: 'oidc',
  AUTH_ISSUER: idp.issuer,
  AUTH_AUDIENCE: 'portal-client,batch-client',
  AUTH_CLIENT_ID: 'portal-client',
  ...extra,
});
