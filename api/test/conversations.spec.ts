import request from 'supertest';
import { errorBodySchema } from '@switchboard/contracts';
import { startTestApi, type TestApi } from './support/test-api.js';

describe('REST: conversations, models, health', () => {
  let api: TestApi;
  let token: string;
  const auth = () => ({ authorization: `Bearer ${token}` });

  beforeAll(async () => {
    api = await startTestApi({ AUTH_LOCAL_ADMINS: 'boss' });
    token = await api.token('rita');
  });
  afterAll(() => api?.stop());

  const expectError = (body: unknown, code: string) => {
    expect(errorBodySchema.parse(body).error.code).toBe(code);
    expect((body as { requestId: string }).requestId).toBeTruthy();
  };

  it('serves health, readiness, metrics and the JWKS without a token', async () => {
    await request(api.url).get('/healthz').expect(200, { status: 'ok' });
    const ready = await request(api.url).get('/readyz').expect(200);
    expect(ready.body).toEqual({ status: 'ok', checks: { redis: 'ok', database: 'ok' } });
    const metrics = await request(api.url).get('/metrics').expect(200);
    expect(metrics.text).toContain('switchboard_queue_jobs');
    const jwks = await request(api.url).get('/.well-known/jwks.json').expect(200);
    expect(jwks.body.keys[0]).toMatchObject({ kty: 'RSA', alg: 'RS256', use: 'sig' });
    expect(jwks.body.keys[0].d).toBeUndefined();
  });

  it('needs a valid bearer token everywhere else', async () => {
    expectError((await request(api.url).get('/v1/conversations').expect(401)).body, 'unauthorized');
    expectError((await request(api.url).get('/v1/me').set('authorization', 'Bearer nope').expect(401)).body, 'unauthorized');
    expectError((await request(api.url).get('/v1/models').set('authorization', 'Basic abc').expect(401)).body, 'unauthorized');
  });

  it('issues dev tokens in local mode and validates the request', async () => {
    const me = await request(api.url).get('/v1/me').set(auth()).expect(200);
    expect(me.body).toEqual({ sub: 'local:rita', username: 'rita', groups: [], scopes: [] });
    const admin = await api.token('boss', { scopes: ['jobs:read'] });
    const adminMe = await request(api.url).get('/v1/me').set('authorization', `Bearer ${admin}`).expect(200);
    expect(adminMe.body).toMatchObject({ groups: ['admin'], scopes: ['jobs:read'] });
    expectError((await request(api.url).post('/v1/auth/dev-token').send({}).expect(400)).body, 'validation_failed');
    expectError((await request(api.url).post('/v1/auth/dev-token').send({ username: 'a b' }).expect(400)).body, 'validation_failed');
  });

  it('lists the catalog without quota internals', async () => {
    const res = await request(api.url).get('/v1/models').set(auth()).expect(200);
    expect(res.body.length).toBeGreaterThanOrEqual(4);
    expect(res.body.filter((m: { default?: boolean }) => m.default)).toHaveLength(1);
    expect(res.body.map((m: { name: string }) => m.name)).toEqual(expect.arrayContaining(['Claude Sonnet 4.5', 'Claude Haiku 4.5', 'Claude 3 Haiku']));
    for (const model of res.body) expect(model.quota).toBeUndefined();
    const config = await request(api.url).get('/v1/client-config').expect(200);
    expect(config.body).toMatchObject({ authMode: 'local', bedrockMode: 'emulator' });
    // The portal shows its admin pages to members of this group (the API checks them itself).
    expect(config.body.adminGroup).toBe('admin');
  });

  it('creates, reads, renames, pages, searches and deletes conversations', async () => {
    const created = await request(api.url)
      .post('/v1/conversations')
      .set(auth())
      .send({ title: 'Alpha plans', systemPrompt: 'Be brief', params: { temperature: 0.3, topK: 50 } })
      .expect(201);
    expect(created.body).toMatchObject({ title: 'Alpha plans', systemPrompt: 'Be brief', params: { temperature: 0.3, topK: 50 } });
    const id = created.body.id as string;
    for (const title of ['Beta', 'Gamma', 'Delta']) {
      await request(api.url).post('/v1/conversations').set(auth()).send({ title }).expect(201);
    }
    const got = await request(api.url).get(`/v1/conversations/${id}`).set(auth()).expect(200);
    expect(got.body.messages).toEqual([]);

    const renamed = await request(api.url).patch(`/v1/conversations/${id}`).set(auth()).send({ title: 'Alpha, renamed' }).expect(200);
    expect(renamed.body.title).toBe('Alpha, renamed');

    const page1 = await request(api.url).get('/v1/conversations?limit=2').set(auth()).expect(200);
    expect(page1.body.items.map((c: { title: string }) => c.title)).toEqual(['Alpha, renamed', 'Delta']);
    const page2 = await request(api.url).get(`/v1/conversations?limit=2&cursor=${page1.body.nextCursor}`).set(auth()).expect(200);
    expect(page2.body.items.map((c: { title: string }) => c.title)).toEqual(['Gamma', 'Beta']);
    expect(page2.body.nextCursor).toBeNull();

    const found = await request(api.url).get('/v1/conversations?q=renamed').set(auth()).expect(200);
    expect(found.body.items).toHaveLength(1);

    await request(api.url).delete(`/v1/conversations/${id}`).set(auth()).expect(204);
    expectError((await request(api.url).get(`/v1/conversations/${id}`).set(auth()).expect(404)).body, 'not_found');
    expectError((await request(api.url).delete(`/v1/conversations/${id}`).set(auth()).expect(404)).body, 'not_found');
  });

  it("hides other users' conversations", async () => {
    const created = await request(api.url).post('/v1/conversations').set(auth()).send({ title: 'Private' }).expect(201);
    const other = await api.token('mallory');
    const as = { authorization: `Bearer ${other}` };
    await request(api.url).get(`/v1/conversations/${created.body.id}`).set(as).expect(404);
    await request(api.url).patch(`/v1/conversations/${created.body.id}`).set(as).send({ title: 'x' }).expect(404);
    await request(api.url).delete(`/v1/conversations/${created.body.id}`).set(as).expect(404);
    const list = await request(api.url).get('/v1/conversations').set(as).expect(200);
    expect(list.body.items).toEqual([]);
  });

  it('answers bad input with the contract error body', async () => {
    const cases: [request.Test, number, string][] = [
      [request(api.url).post('/v1/conversations').set(auth()).send({ modelId: 'nope' }), 400, 'model_not_found'],
      [request(api.url).post('/v1/conversations').set(auth()).send({ params: { temperature: 3 } }), 400, 'validation_failed'],
      [request(api.url).post('/v1/conversations').set(auth()).send({ params: { maxTokens: 999_999 } }), 400, 'validation_failed'],
      [request(api.url).post('/v1/conversations').set(auth()).send({ title: 'x'.repeat(201) }), 400, 'validation_failed'],
      [request(api.url).post('/v1/conversations').set(auth()).set('content-type', 'application/json').send('{oops'), 400, 'bad_request'],
      [request(api.url).get('/v1/conversations?limit=1000').set(auth()), 400, 'validation_failed'],
      [request(api.url).get('/v1/conversations?cursor=garbage').set(auth()), 400, 'validation_failed'],
      [request(api.url).get('/v1/conversations/not-a-uuid').set(auth()), 404, 'not_found'],
      [request(api.url).get('/v1/nothing-here').set(auth()), 404, 'not_found'],
    ];
    for (const [req, status, code] of cases) {
      const res = await req;
      expect({ status: res.status, code: res.body?.error?.code }).toEqual({ status, code });
      expectError(res.body, code);
    }
  });

  it('refuses bodies over the size limit with 413', async () => {
    const huge = JSON.stringify({ title: 'x', systemPrompt: 'y'.repeat(31 * 1024 * 1024) });
    const res = await request(api.url).post('/v1/conversations').set(auth()).set('content-type', 'application/json').send(huge);
    expect(res.status).toBe(413);
    expectError(res.body, 'payload_too_large');
  });
});
