import { randomUUID } from 'node:crypto';
import { io } from 'socket.io-client';
import request from 'supertest';
import { type FakeIdp, oidcEnv, startFakeIdp } from '../support/fake-idp.js';
import { startTestApi, type TestApi } from '../support/test-api.js';

const prefix = 'https://api.example/';

describe('security 5: scopes are exact, and client-credentials tokens are not people', () => {
  let idp: FakeIdp;
  let api: TestApi;
  /** A Cognito client-credentials access token: the subject is the client, no user name. */
  const clientToken = (scope?: string) =>
    idp.sign({ sub: 'batch-client', client_id: 'batch-client', token_use: 'access', ...(scope !== undefined ? { scope } : {}) });
  const personToken = () => idp.sign({ sub: 'u-1', token_use: 'id', aud: 'portal-client', 'cognito:username': 'lin' });
  const submit = (token: string) =>
    request(api.url).post('/v1/jobs/summarize').set('authorization', `Bearer ${token}`).set('idempotency-key', randomUUID()).send({ text: 'Minutes of the meeting.' });

  beforeAll(async () => {
    idp = await startFakeIdp();
    api = await startTestApi(oidcEnv(idp, { AUTH_SCOPE_PREFIX: prefix }));
  });
  afterAll(async () => {
    await api?.stop();
    await idp?.close();
  });

  it('accepts jobs:write bare or with AUTH_SCOPE_PREFIX, and nothing else', async () => {
    await submit(await clientToken('jobs:write')).expect(202);
    await submit(await clientToken(`${prefix}jobs:write`)).expect(202);
    for (const scope of ['evil/jobs:write', 'switchboard/jobs:write', `${prefix}x/jobs:write`, 'jobs:write2', 'xjobs:write', `${prefix}jobs:read`, '']) {
      const res = await submit(await clientToken(scope));
      expect({ scope, status: res.status, code: res.body.error?.code }).toEqual({ scope, status: 403, code: 'forbidden' });
    }
    const reader = await clientToken(`${prefix}jobs:read`);
    await request(api.url).get('/v1/jobs').set('authorization', `Bearer ${reader}`).expect(200);
    const evilReader = await clientToken('evil/jobs:read');
    await request(api.url).get('/v1/jobs').set('authorization', `Bearer ${evilReader}`).expect(403);
  });

  it('a client token without scopes gets nothing (it is not a person)', async () => {
    const res = await submit(await clientToken());
    expect(res.status).toBe(403);
  });

  it('refuses client-credentials tokens on conversation and prompt routes, but not people', async () => {
    const client = await clientToken(`${prefix}jobs:read ${prefix}jobs:write`);
    for (const [method, path] of [
      ['get', '/v1/conversations'],
      ['post', '/v1/conversations'],
      ['get', '/v1/prompts'],
      ['post', '/v1/prompts'],
    ] as const) {
      const res = await request(api.url)[method](path).set('authorization', `Bearer ${client}`).send({});
      expect({ path, status: res.status, code: res.body.error?.code }).toEqual({ path, status: 403, code: 'forbidden' });
    }
    const person = await personToken();
    await request(api.url).get('/v1/conversations').set('authorization', `Bearer ${person}`).expect(200);
    await request(api.url).get('/v1/prompts').set('authorization', `Bearer ${person}`).expect(200);
  });

  it('refuses client-credentials tokens on the chat socket', async () => {
    const outcome = (token: string) =>
      new Promise<string>((resolve) => {
        const socket = io(`${api.url}/chat`, { auth: { token }, transports: ['websocket'], reconnection: false, forceNew: true });
        socket.once('connect', () => (socket.close(), resolve('connected')));
        socket.once('connect_error', (err: Error & { data?: { code: string } }) => (socket.close(), resolve(err.data?.code ?? err.message)));
      });
    expect(await outcome(await clientToken(`${prefix}jobs:write`))).toBe('forbidden');
    // Generic OIDC client credentials: the subject is the client id.
    expect(await outcome(await idp.sign({ sub: 'batch-client', client_id: 'batch-client' }))).toBe('forbidden');
    expect(await outcome(await personToken())).toBe('connected');
  });
});
