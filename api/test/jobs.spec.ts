import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import request from 'supertest';
import { errorBodySchema, jobSchema } from '@switchboard/contracts';
import { type AppConfig, summarizeQueueName } from '@switchboard/server-core';
import { APP_CONFIG } from '../src/config/tokens.js';
import { JobsRepository } from '../src/jobs/jobs.repository.js';
import { startTestApi, type TestApi } from './support/test-api.js';

describe('REST: batch jobs (API only, no worker: jobs stay queued)', () => {
  let api: TestApi;
  let token: string;
  let redis: Redis;
  const config = () => api.app.get<symbol, AppConfig>(APP_CONFIG);
  const auth = (t = token) => ({ authorization: `Bearer ${t}` });
  const submit = (body: unknown, t = token) => request(api.url).post('/v1/jobs/summarize').set(auth(t)).send(body as object);
  const expectError = (res: request.Response, status: number, code: string) => {
    expect({ status: res.status, code: res.body?.error?.code }).toEqual({ status, code });
    expect(errorBodySchema.parse(res.body).requestId).toBeTruthy();
  };

  beforeAll(async () => {
    api = await startTestApi({ JOBS_MAX_BODY_BYTES: String(2 * 1024 * 1024), AUTH_SCOPE_PREFIX: 'switchboard/' });
    token = await api.token('svc', { scopes: ['switchboard/jobs:read', 'switchboard/jobs:write'] });
    redis = new Redis(config().redisUrl);
  });
  afterAll(async () => {
    redis?.disconnect();
    await api?.stop();
  });

  it('accepts a job with 202, stores it and enqueues it under its own id', async () => {
    const res = await submit({ text: 'Hello world.', maxWords: 50, metadata: { k: 1 } }).expect(202);
    const job = jobSchema.parse(res.body);
    expect(job).toMatchObject({ type: 'summarize', status: 'queued', progress: 0 });
    const got = await request(api.url).get(`/v1/jobs/${job.id}`).set(auth()).expect(200);
    expect(got.body).toEqual(res.body);
    expect(await redis.exists(`${config().queuePrefix}:${summarizeQueueName}:${job.id}`)).toBe(1);
  });

  it('returns the same job for the same Idempotency-Key and principal, a new one for another principal', async () => {
    const first = await submit({ text: 'Once.' }).set('idempotency-key', 'k-1').expect(202);
    const again = await request(api.url).post('/v1/jobs/summarize').set(auth()).set('idempotency-key', 'k-1').send({ text: 'Once.' }).expect(202);
    expect(again.body.id).toBe(first.body.id);
    const racing = await Promise.all(Array.from({ length: 20 }, () => request(api.url).post('/v1/jobs/summarize').set(auth()).set('idempotency-key', 'k-2').send({ text: 'Race.' })));
    expect(new Set(racing.map((r) => r.body.id)).size).toBe(1);
    const other = await api.token('svc-2', { scopes: ['jobs:write'] });
    const theirs = await request(api.url).post('/v1/jobs/summarize').set(auth(other)).set('idempotency-key', 'k-1').send({ text: 'Once.' }).expect(202);
    expect(theirs.body.id).not.toBe(first.body.id);
  });

  it('stores a batch larger than one statement whole, in several statements, still leaving out a used Idempotency-Key', async () => {
    const repository = api.app.get(JobsRepository);
    const job = (letter: string, idempotencyKey?: string) => ({
      id: randomUUID(),
      owner: 'bulk-owner',
      modelId: 'm',
      // ~3.5 MB each: three of them are more than one statement's ~8 MB of rows.
      input: { text: letter.repeat(3.5 * 1024 * 1024) },
      idempotencyKey,
      callbackUrl: undefined,
      requestId: randomUUID(),
    });
    const [a, b, c, d] = [job('a', 'same-key'), job('b'), job('c', 'same-key'), job('d')];
    const stored = (await repository.insertMany([a!, b!, c!, d!])).map((j) => j.id);
    // a and c go out in different statements at once: either may take the key, never both.
    expect(stored).toHaveLength(3);
    expect(stored).toEqual(expect.arrayContaining([b!.id, d!.id]));
    expect(stored.includes(a!.id) !== stored.includes(c!.id)).toBe(true);
    for (const id of stored) expect(await repository.find('bulk-owner', id)).toMatchObject({ id, status: 'queued' });
  });

  it('lists own jobs by status with cursor paging', async () => {
    const user = await api.token('lister', { scopes: ['jobs:read', 'jobs:write'] });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await submit({ text: `Doc ${i}` }, user).expect(202)).body.id);
    await request(api.url).delete(`/v1/jobs/${ids[0]}`).set(auth(user)).expect(202);
    const page1 = await request(api.url).get('/v1/jobs?limit=2&status=queued').set(auth(user)).expect(200);
    expect(page1.body.items.map((j: { id: string }) => j.id)).toEqual([ids[4], ids[3]]);
    const page2 = await request(api.url).get(`/v1/jobs?limit=2&status=queued&cursor=${page1.body.nextCursor}`).set(auth(user)).expect(200);
    expect(page2.body.items.map((j: { id: string }) => j.id)).toEqual([ids[2], ids[1]]);
    expect(page2.body.nextCursor).toBeNull();
    const cancelled = await request(api.url).get('/v1/jobs?status=cancelled').set(auth(user)).expect(200);
    expect(cancelled.body.items.map((j: { id: string }) => j.id)).toEqual([ids[0]]);
    const mine = await request(api.url).get('/v1/jobs').set(auth()).expect(200);
    expect(mine.body.items.map((j: { id: string }) => j.id)).not.toContain(ids[0]);
  });

  it('cancels a queued job: 202, removed from the queue, 202 again on a retry', async () => {
    const { id } = (await submit({ text: 'Cancel me.' }).expect(202)).body;
    const res = await request(api.url).delete(`/v1/jobs/${id}`).set(auth()).expect(202);
    expect(res.body).toMatchObject({ id, status: 'cancelled', error: { code: 'cancelled' } });
    expect(await redis.exists(`${config().queuePrefix}:${summarizeQueueName}:${id}`)).toBe(0);
    // A retried cancel is safe: 202 again, the same job.
    expect((await request(api.url).delete(`/v1/jobs/${id}`).set(auth()).expect(202)).body).toMatchObject({ id, status: 'cancelled' });
    expect((await request(api.url).get(`/v1/jobs/${id}`).set(auth()).expect(200)).body.status).toBe('cancelled');
  });

  it('refuses loopback, private and link-local callback targets unless configured', async () => {
    for (const url of ['http://127.0.0.1:9/hook', 'http://localhost/hook', 'http://10.1.2.3/x', 'http://169.254.169.254/latest', 'http://[::1]/x', 'http://[fd00::1]/x']) {
      const res = await submit({ text: 'x', callbackUrl: url });
      expectError(res, 400, 'validation_failed');
      expect(res.body.error.message).toMatch(/only public targets are allowed/);
      expect(res.body.error.details[0].path).toBe('callbackUrl');
    }
    expectError(await submit({ text: 'x', callbackUrl: 'ftp://example.com/x' }), 400, 'validation_failed');
  });

  it('needs jobs:write / jobs:read for service tokens; portal users need none', async () => {
    const reader = await api.token('reader', { scopes: ['switchboard/jobs:read'] });
    const other = await api.token('other', { scopes: ['switchboard/other'] });
    const person = await api.token('ana');
    expectError(await submit({ text: 'x' }, reader), 403, 'forbidden');
    expectError(await submit({ text: 'x' }, other), 403, 'forbidden');
    expectError(await request(api.url).get('/v1/jobs').set(auth(other)), 403, 'forbidden');
    await request(api.url).get('/v1/jobs').set(auth(reader)).expect(200);
    const mine = await submit({ text: 'From the portal.' }, person).expect(202);
    await request(api.url).get(`/v1/jobs/${mine.body.id}`).set(auth(person)).expect(200);
    expectError(await request(api.url).get(`/v1/jobs/${mine.body.id}`).set(auth()), 404, 'not_found');
    expectError(await request(api.url).post('/v1/webhooks/secret').set(auth(reader)), 403, 'forbidden');
  });

  it('rotates and returns the callback secret', async () => {
    const a = (await request(api.url).get('/v1/webhooks/secret').set(auth()).expect(200)).body.secret;
    expect(a).toMatch(/^whsec_/);
    expect((await request(api.url).get('/v1/webhooks/secret').set(auth()).expect(200)).body.secret).toBe(a);
    const b = (await request(api.url).post('/v1/webhooks/secret').set(auth()).expect(200)).body.secret;
    expect(b).not.toBe(a);
  });

  it('answers every error with the contract error body', async () => {
    const pdf = Buffer.from('%PDF-1.7').toString('base64');
    expectError(await request(api.url).post('/v1/jobs/summarize').send({ text: 'x' }), 401, 'unauthorized');
    expectError(await request(api.url).get('/v1/jobs').set('authorization', 'Bearer nope'), 401, 'unauthorized');
    expectError(await submit({}), 400, 'validation_failed');
    expectError(await submit({ text: '' }), 400, 'validation_failed');
    expectError(await submit({ text: 'x', maxWords: 1 }), 400, 'validation_failed');
    expectError(await submit({ text: 'x', unknown: 1 }), 400, 'validation_failed');
    expectError(await submit({ documents: [{ name: 'a.pdf', format: 'pdf', data: 'not base64!' }] }), 400, 'validation_failed');
    expectError(await submit({ text: 'x', modelId: 'nope' }), 400, 'model_not_found');
    expectError(await submit({ documents: [{ name: 'a.xlsx', format: 'xlsx', data: pdf }] }), 415, 'unsupported_media_type');
    expectError(await request(api.url).post('/v1/jobs/summarize').set(auth()).set('content-type', 'text/plain').send('hello'), 415, 'unsupported_media_type');
    expectError(await request(api.url).post('/v1/jobs/summarize').set(auth()).set('content-type', 'application/json').send('{oops'), 400, 'bad_request');
    const big = { documents: [{ name: 'big.txt', format: 'txt', data: Buffer.alloc(3 * 1024 * 1024, 97).toString('base64') }] };
    const tooBig = await submit(big);
    expectError(tooBig, 413, 'payload_too_large');
    expect(tooBig.body.error.message).toMatch(/limit is 2097152 bytes/);
    expectError(await submit({ text: 'x' }).set('idempotency-key', 'x'.repeat(201)), 400, 'validation_failed');
    expectError(await request(api.url).get('/v1/jobs?status=nope').set(auth()), 400, 'validation_failed');
    expectError(await request(api.url).get('/v1/jobs?limit=1000').set(auth()), 400, 'validation_failed');
    expectError(await request(api.url).get('/v1/jobs?cursor=garbage').set(auth()), 400, 'validation_failed');
    expectError(await request(api.url).get('/v1/jobs/not-a-uuid').set(auth()), 404, 'not_found');
    expectError(await request(api.url).get('/v1/jobs/0b9f3c6e-2a41-4c1e-9d0e-6f0f4f7d1a22').set(auth()), 404, 'not_found');
    expectError(await request(api.url).delete('/v1/jobs/0b9f3c6e-2a41-4c1e-9d0e-6f0f4f7d1a22').set(auth()), 404, 'not_found');
  });

  it('serves the OpenAPI document and Swagger UI without a token, covering every REST endpoint', async () => {
    const doc = (await request(api.url).get('/docs/openapi.json').expect(200)).body;
    expect(doc.openapi).toBe('3.1.0');
    for (const path of ['/v1/jobs/summarize', '/v1/jobs', '/v1/jobs/{id}', '/v1/webhooks/secret', '/v1/conversations', '/v1/conversations/{id}', '/v1/models', '/v1/me', '/v1/auth/dev-token', '/healthz', '/readyz', '/metrics']) {
      expect(doc.paths[path]).toBeDefined();
    }
    expect(doc.paths['/v1/jobs/summarize'].post.requestBody.content['application/json'].examples.text).toBeDefined();
    const ui = await request(api.url).get('/docs/').expect(200);
    expect(ui.text).toContain('swagger');
  });
});
