import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';

/**
 * An identity provider at the edge (like Cognito): an issuer URL with a JWKS, signing people's ID
 * tokens with groups (`cognito:groups`) and client-credentials access tokens for batch clients.
 */
export async function startFakeIdp() {
  const { privateKey, publicKey } = await generateKeyPair('RS256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'it-key', alg: 'RS256', use: 'sig' };
  const server: Server = createServer((req, res) => {
    if (req.url === '/.well-known/jwks.json') res.setHeader('content-type', 'application/json').end(JSON.stringify({ keys: [jwk] }));
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const sign = (claims: Record<string, unknown>, sub: string) =>
    new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: jwk.kid }).setIssuer(issuer).setSubject(sub).setIssuedAt().setExpirationTime('30m').sign(privateKey);
  return {
    issuer,
    /** API settings for oidc mode against this IdP (`portal` for people, `batch-client` for the batch client). */
    env: { AUTH_MODE: 'oidc', AUTH_ISSUER: issuer, AUTH_AUDIENCE: 'portal,batch-client', AUTH_CLIENT_ID: 'portal' },
    person: (username: string, groups: string[] = []) =>
      sign({ token_use: 'id', aud: 'portal', username, 'cognito:groups': groups }, `sub-${username}`),
    client: (clientId: string, scopes = ['jobs:read', 'jobs:write']) =>
      sign({ token_use: 'access', client_id: clientId, scope: scopes.join(' ') }, clientId),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
