import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { io } from 'socket.io-client';
import request from 'supertest';
import { startTestApi, type TestApi } from './support/test-api.js';

/** A stand-in identity provider at the edge: an issuer URL serving a JWKS, like Cognito's. */
async function startFakeIdp() {
  const { privateKey, publicKey } = await generateKeyPair('RS256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'idp-key-1', alg: 'RS256', use: 'sig' };
  const server: Server = createServer((req, res) => {
    if (req.url === '/.well-known/jwks.json') {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ keys: [jwk] }));
    } else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const sign = (claims: Record<string, unknown>, opts: { issuer?: string; expiresIn?: string; key?: CryptoKey } = {}) =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', kid: 'idp-key-1' })
      .setIssuer(opts.issuer ?? issuer)
      .setIssuedAt()
      .setExpirationTime(opts.expiresIn ?? '5m')
      .sign(opts.key ?? privateKey);
  return { issuer, sign, close: () => new Promise((r) => server.close(r)) };
}

describe('OIDC mode: tokens from an external IdP, verified through its JWKS', () => {
  let idp: Awaited<ReturnType<typeof startFakeIdp>>;
  let api: TestApi;

  beforeAll(async () => {
    idp = await startFakeIdp();
    api = await startTestApi({ AUTH_MODE: 'oidc', AUTH_ISSUER: idp.issuer, AUTH_AUDIENCE: 'portal-client, batch-client-id', AUTH_CLIENT_ID: 'portal-client', AUTH_END_SESSION_URL: 'https://idp.example.test/logout' });
  });
  afterAll(async () => {
    await api?.stop();
    await idp?.close();
  });

  it('accepts a Cognito ID token with groups', async () => {
    const token = await idp.sign({ sub: 'u-1', aud: 'portal-client', 'cognito:username': 'lin', 'cognito:groups': ['admin'], token_use: 'id' });
    const res = await request(api.url).get('/v1/me').set('authorization', `Bearer ${token}`).expect(200);
    expect(res.body).toEqual({ sub: 'u-1', username: 'lin', groups: ['admin'], scopes: [] });
  });

  it('accepts a client-credentials access token with resource-server scopes', async () => {
    const token = await idp.sign({ sub: 'batch-client', client_id: 'batch-client-id', scope: 'switchboard/jobs:read switchboard/jobs:write', token_use: 'access' });
    const res = await request(api.url).get('/v1/me').set('authorization', `Bearer ${token}`).expect(200);
    expect(res.body.scopes).toEqual(['switchboard/jobs:read', 'switchboard/jobs:write']);
  });

  it('rejects wrong issuer, wrong audience, expired and foreign-key tokens', async () => {
    const { privateKey: otherKey } = await generateKeyPair('RS256');
    const bad = [
      await idp.sign({ sub: 'u', aud: 'portal-client' }, { issuer: 'http://evil.example' }),
      await idp.sign({ sub: 'u', aud: 'someone-else' }),
      await idp.sign({ sub: 'u', aud: 'portal-client' }, { expiresIn: '-1m' }),
      await idp.sign({ sub: 'u', aud: 'portal-client' }, { key: otherKey }),
    ];
    for (const token of bad) {
      const res = await request(api.url).get('/v1/me').set('authorization', `Bearer ${token}`);
      expect(res.status).toBe(401);
      expect(res.body.error.code).toBe('unauthorized');
    }
  });

  it('has no dev-token or local JWKS, and tells the portal to use OIDC', async () => {
    await request(api.url).post('/v1/auth/dev-token').send({ username: 'x' }).expect(404);
    await request(api.url).get('/.well-known/jwks.json').expect(404);
    const config = await request(api.url).get('/v1/client-config').expect(200);
    expect(config.body).toMatchObject({
      authMode: 'oidc',
      oidc: { issuer: idp.issuer, clientId: 'portal-client', endSessionEndpoint: 'https://idp.example.test/logout', scopes: ['openid', 'email', 'profile'] },
    });
  });

  it('authenticates the Socket.IO handshake through the same verifier', async () => {
    const good = await idp.sign({ sub: 'u-2', aud: 'portal-client' });
    const expired = await idp.sign({ sub: 'u-2', aud: 'portal-client' }, { expiresIn: '-1m' });
    const outcome = (token: string) =>
      new Promise<string>((resolve) => {
        const socket = io(`${api.url}/chat`, { auth: { token }, transports: ['websocket'], reconnection: false, forceNew: true });
        socket.once('connect', () => (socket.close(), resolve('connected')));
        socket.once('connect_error', (err: Error & { data?: { code: string } }) => (socket.close(), resolve(err.data?.code ?? err.message)));
      });
    expect(await outcome(good)).toBe('connected');
    expect(await outcome(expired)).toBe('unauthorized');
  });
});
