import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateKeyPair, importJWK, type JWK, SignJWT } from 'jose';
import request from 'supertest';
import { ConfigError, loadConfig } from '@switchboard/server-core';
import { type FakeIdp, oidcEnv, startFakeIdp } from '../support/fake-idp.js';
import { startTestApi, type TestApi } from '../support/test-api.js';

const me = (api: TestApi, token: string) => request(api.url).get('/v1/me').set('authorization', `Bearer ${token}`);

describe('security 4: OIDC tokens are for us', () => {
  let idp: FakeIdp;
  let api: TestApi;

  beforeAll(async () => {
    idp = await startFakeIdp();
    api = await startTestApi(oidcEnv(idp));
  });
  afterAll(async () => {
    await api?.stop();
    await idp?.close();
  });

  it('refuses to boot in oidc mode without AUTH_AUDIENCE', () => {
    const env = { HOME: '/nonexistent', AUTH_MODE: 'oidc', AUTH_ISSUER: 'https://idp.example' };
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(/AUTH_AUDIENCE/);
    expect(loadConfig({ ...env, AUTH_AUDIENCE: 'portal-client' }).auth.audiences).toEqual(['portal-client']);
  });

  it('checks aud on ID tokens and client_id on Cognito access tokens', async () => {
    await me(api, await idp.sign({ sub: 'u-1', token_use: 'id', aud: 'portal-client', 'cognito:username': 'lin' })).expect(200);
    await me(api, await idp.sign({ sub: 'u-1', token_use: 'access', client_id: 'portal-client', username: 'lin' })).expect(200);
    const refused = [
      // An ID token minted for another app, carrying our client id in a claim an ID token does not use.
      await idp.sign({ sub: 'u-1', token_use: 'id', aud: 'other-app', client_id: 'portal-client' }),
      // An access token of another client that names us in `aud`.
      await idp.sign({ sub: 'u-1', token_use: 'access', client_id: 'other-app', aud: 'portal-client', username: 'lin' }),
      await idp.sign({ sub: 'u-1', aud: 'other-app' }),
      await idp.sign({ sub: 'u-1' }),
    ];
    for (const token of refused) expect((await me(api, token)).status).toBe(401);
  });

  it('refuses token_use other than access or id', async () => {
    for (const use of ['refresh', 'other', '']) {
      const res = await me(api, await idp.sign({ sub: 'u-1', token_use: use, aud: 'portal-client', client_id: 'portal-client' }));
      expect(res.status).toBe(401);
      expect(res.body.error.code).toBe('unauthorized');
    }
  });

  it('refuses tokens without exp', async () => {
    const res = await me(api, await idp.sign({ sub: 'u-1', aud: 'portal-client' }, { expiresIn: null }));
    expect(res.status).toBe(401);
  });

  it('keeps valid tokens working through a flood of random kids, fetching the JWKS at most once per interval', async () => {
    // A fresh API that has not fetched the IdP's keys yet: the flood comes first.
    const fresh = await startTestApi(oidcEnv(idp));
    try {
      const before = idp.jwksFetches();
      const { privateKey: forger } = await generateKeyPair('RS256');
      for (let i = 0; i < 12; i++) {
        const forged = await idp.sign({ sub: 'attacker', aud: 'portal-client' }, { kid: randomUUID(), key: forger });
        expect((await me(fresh, forged)).status).toBe(401);
      }
      for (let i = 0; i < 3; i++) {
        await me(fresh, await idp.sign({ sub: `u-${i}`, aud: 'portal-client' })).expect(200);
      }
      const fetches = idp.jwksFetches() - before;
      console.log(`JWKS fetches for 12 forged kids + 3 valid tokens: ${fetches}`);
      expect(fetches).toBeLessThanOrEqual(2);
    } finally {
      await fresh.stop();
    }
  });

  it('verifies a rotated key once the refetch interval has passed, even right after a flood', async () => {
    const refreshMs = 500;
    const fast = await startTestApi(oidcEnv(idp, { AUTH_JWKS_REFRESH_MS: String(refreshMs) }));
    try {
      await me(fast, await idp.sign({ sub: 'u-1', aud: 'portal-client' })).expect(200);
      const { privateKey: forger } = await generateKeyPair('RS256');
      await me(fast, await idp.sign({ sub: 'x', aud: 'portal-client' }, { kid: randomUUID(), key: forger })).expect(401);
      await idp.rotate();
      await new Promise((r) => setTimeout(r, refreshMs + 100));
      await me(fast, await idp.sign({ sub: 'u-2', aud: 'portal-client' })).expect(200);
    } finally {
      await fast.stop();
    }
  });
});

describe('security 4: tokens without exp are refused in local mode too', () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await startTestApi();
  });
  afterAll(() => api?.stop());

  it('refuses a token signed with the local key but without exp', async () => {
    const valid = await api.token('ana');
    await me(api, valid).expect(200);
    const jwk = JSON.parse(readFileSync(join(api.config.dataDir, 'local-signing-key.json'), 'utf8')) as JWK;
    const key = await importJWK(jwk, 'RS256');
    const noExp = await new SignJWT({ username: 'ana' })
      .setProtectedHeader({ alg: 'RS256', kid: jwk.kid! })
      .setSubject('local:ana')
      .setIssuer('urn:switchboard:local')
      .setAudience('switchboard')
      .setIssuedAt()
      .sign(key);
    expect((await me(api, noExp)).status).toBe(401);
  });
});
