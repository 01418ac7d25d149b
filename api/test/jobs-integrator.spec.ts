import { sql } from 'drizzle-orm';
import request from 'supertest';
import { errorBodySchema, jobSchema } from '@switchboard/contracts';
import type { Database } from '@switchboard/server-core';
import { DATABASE } from '../src/database/database.module.js';
import { startTestApi, type TestApi } from './support/test-api.js';

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('REST: what batch integrators build on (idempotency, request ids, safe cancel, strict lists)', () => {
  let api: TestApi;
  let token: string;
  const auth = (t = token) => ({ authorization: `Bearer ${t}` });
  const submit = (body: unknown, key?: string, t = token) => {
    const req = request(api.url).post('/v1/jobs/summarize').set(auth(t));
    if (key) req.set('idempotency-key', key);
    return req.send(body as object);
  };
  const expectError = (res: request.Response, status: number, code: string) => {
    expect({ status: res.status, code: res.body?.error?.code }).toEqual({ status, code });
    expect(errorBodySchema.parse(res.body).requestId).toBeTruthy();
  };
  const db = () => api.app.get<symbol, Database>(DATABASE).db;
  const pdf = Buffer.from('%PDF-1.7').toString('base64');

  beforeAll(async () => {
    api = await startTestApi();
    token = await api.token('integrator', { scopes: ['jobs:read', 'jobs:write'] });
  });
  afterAll(async () => {
    await api?.stop();
  });

  describe('Idempotency-Key', () => {
    it('replays the same request with Idempotent-Replayed: true, whatever the key order of metadata', async () => {
      const first = await submit({ text: 'Replay me.', maxWords: 50, metadata: { a: 1, b: { c: 2, d: 3 } } }, 'replay-1').expect(202);
      expect(first.headers['idempotent-replayed']).toBeUndefined();
      const again = await submit({ metadata: { b: { d: 3, c: 2 }, a: 1 }, maxWords: 50, text: 'Replay me.' }, 'replay-1').expect(202);
      expect(again.headers['idempotent-replayed']).toBe('true');
      expect(again.body).toEqual(first.body);
      expect(jobSchema.parse(again.body).id).toBe(first.body.id);
    });

    it('refuses the same key with another body: 422 idempotency_key_reused, the first job untouched', async () => {
      const first = await submit({ text: 'Summary of Monday.' }, 'nightly-2026-03-02').expect(202);
      for (const other of [
        { text: 'Summary of Tuesday.' },
        { text: 'Summary of Monday.', maxWords: 100 },
        { text: 'Summary of Monday.', metadata: { day: 'tue' } },
        { text: 'Summary of Monday.', instructions: 'Bullet points.' },
        { text: 'Summary of Monday.', name: 'Tuesday' },
        { text: 'Summary of Monday.', callbackUrl: 'https://example.com/hook' },
        { text: 'Summary of Monday.', modelId: 'anthropic.claude-3-haiku-20240307-v1:0' },
        { documents: [{ name: 'monday.txt', format: 'txt', data: Buffer.from('Summary of Monday.').toString('base64') }] },
      ]) {
        const res = await submit(other, 'nightly-2026-03-02');
        expectError(res, 422, 'idempotency_key_reused');
        expect(res.headers['idempotent-replayed']).toBeUndefined();
      }
      const listed = (await request(api.url).get('/v1/jobs?limit=100').set(auth()).expect(200)).body.items as { id: string }[];
      expect(listed.filter((j) => j.id === first.body.id)).toHaveLength(1);
      // The original request still replays.
      expect((await submit({ text: 'Summary of Monday.' }, 'nightly-2026-03-02').expect(202)).body.id).toBe(first.body.id);
    });

    it('under a race of different bodies for one key, one job is made and every other answer is a replay or a 422', async () => {
      const bodies = Array.from({ length: 12 }, (_, i) => ({ text: i % 2 ? 'Odd body.' : 'Even body.' }));
      const answers = await Promise.all(bodies.map((b) => submit(b, 'race-key')));
      const ok = answers.filter((r) => r.status === 202);
      expect(new Set(ok.map((r) => r.body.id)).size).toBe(1);
      expect(ok.filter((r) => r.headers['idempotent-replayed'] !== 'true')).toHaveLength(1);
      for (const r of answers.filter((r) => r.status !== 202)) expectError(r, 422, 'idempotency_key_reused');
      // The losers are exactly the requests whose body differs from the winner's.
      const winner = bodies[answers.indexOf(ok.find((r) => r.headers['idempotent-replayed'] !== 'true')!)]!.text;
      expect(ok.every((r) => bodies[answers.indexOf(r)]!.text === winner)).toBe(true);
    });

    it('lets a key expire after JOBS_IDEMPOTENCY_TTL_MS (24 h by default): then the same key makes a new job', async () => {
      expect(api.config.jobs.idempotencyTtlMs).toBe(24 * 60 * 60 * 1000);
      const first = await submit({ text: 'Daily report.' }, 'daily').expect(202);
      // The clock: the job was made just over a day ago.
      await db().execute(sql`update jobs set created_at = now() - interval '24 hours 1 minute' where id = ${first.body.id}::uuid`);
      const next = await submit({ text: 'Daily report, the next day.' }, 'daily').expect(202);
      expect(next.body.id).not.toBe(first.body.id);
      expect(next.headers['idempotent-replayed']).toBeUndefined();
      const replay = await submit({ text: 'Daily report, the next day.' }, 'daily').expect(202);
      expect(replay.body.id).toBe(next.body.id);
      expect(replay.headers['idempotent-replayed']).toBe('true');
      // The old job is still there (only its key was released).
      await request(api.url).get(`/v1/jobs/${first.body.id}`).set(auth()).expect(200);
      // Just inside the window the key still replays.
      await db().execute(sql`update jobs set created_at = now() - interval '23 hours 59 minutes' where id = ${next.body.id}::uuid`);
      expect((await submit({ text: 'Daily report, the next day.' }, 'daily').expect(202)).body.id).toBe(next.body.id);
    });
  });

  describe('X-Request-Id', () => {
    it('is on every response, 2xx and errors, and equals the error body requestId', async () => {
      for (const res of [
        await request(api.url).get('/healthz'),
        await request(api.url).get('/docs/openapi.json'),
        await request(api.url).get('/v1/jobs').set(auth()),
        await submit({ text: 'Request ids.' }),
        await request(api.url).get('/v1/nowhere').set(auth()),
      ]) {
        expect(res.headers['x-request-id']).toMatch(uuidPattern);
      }
      const bad = await request(api.url).get('/v1/jobs?status=nope').set(auth());
      expectError(bad, 400, 'validation_failed');
      expect(bad.headers['x-request-id']).toBe(bad.body.requestId);
      const unauthorized = await request(api.url).get('/v1/jobs');
      expectError(unauthorized, 401, 'unauthorized');
      expect(unauthorized.headers['x-request-id']).toBe(unauthorized.body.requestId);
      const malformed = await request(api.url).post('/v1/jobs/summarize').set(auth()).set('content-type', 'application/json').send('{oops');
      expectError(malformed, 400, 'bad_request');
      expect(malformed.headers['x-request-id']).toBe(malformed.body.requestId);
    });

    it('reuses a sane incoming X-Request-Id and replaces anything else', async () => {
      const mine = await request(api.url).get('/v1/jobs').set(auth()).set('x-request-id', 'trace-42.a:b_c').expect(200);
      expect(mine.headers['x-request-id']).toBe('trace-42.a:b_c');
      const failed = await request(api.url).get('/v1/jobs?limit=0').set(auth()).set('x-request-id', 'trace-43');
      expect([failed.headers['x-request-id'], failed.body.requestId]).toEqual(['trace-43', 'trace-43']);
      for (const odd of ['has space', 'x'.repeat(101), 'quote"s', '<script>']) {
        const res = await request(api.url).get('/v1/jobs').set(auth()).set('x-request-id', odd).expect(200);
        expect(res.headers['x-request-id']).toMatch(uuidPattern);
      }
    });
  });

  describe('cancel', () => {
    it('answers 202 again for a job already cancelled (a safe retry), 409 for one that completed or failed', async () => {
      const { id } = (await submit({ text: 'Cancel twice.' }).expect(202)).body;
      const once = await request(api.url).delete(`/v1/jobs/${id}`).set(auth()).expect(202);
      const twice = await request(api.url).delete(`/v1/jobs/${id}`).set(auth()).expect(202);
      expect(twice.body).toEqual(once.body);
      expect(twice.body).toMatchObject({ id, status: 'cancelled' });
      for (const status of ['completed', 'failed'] as const) {
        const job = (await submit({ text: `Ends ${status}.` }).expect(202)).body;
        await db().execute(sql`update jobs set status = ${status}, finished_at = now() where id = ${job.id}::uuid`);
        expectError(await request(api.url).delete(`/v1/jobs/${job.id}`).set(auth()), 409, 'conflict');
      }
    });
  });

  describe('GET /v1/jobs', () => {
    it('refuses unknown query parameters with 400 validation_failed naming them', async () => {
      // `sort` and `metadata.<key>` became parameters (issue 17); `sort=x` is still refused, naming it.
      for (const name of ['stauts', 'sort', 'metadata', 'meta.k', 'createdafter']) {
        const res = await request(api.url).get(`/v1/jobs?${encodeURIComponent(name)}=x`).set(auth());
        expectError(res, 400, 'validation_failed');
        expect(res.body.error.message).toContain(name);
      }
    });

    it('filters by createdAfter (inclusive) and createdBefore (exclusive), ISO dates or date-times', async () => {
      const user = await api.token('dated', { scopes: ['jobs:read', 'jobs:write'] });
      const ids: string[] = [];
      for (const day of ['2026-03-01T10:00:00Z', '2026-03-02T10:00:00Z', '2026-03-03T10:00:00Z']) {
        const { id } = (await submit({ text: `Made on ${day}.` }, undefined, user).expect(202)).body;
        await db().execute(sql`update jobs set created_at = ${day}::timestamptz where id = ${id}::uuid`);
        ids.push(id);
      }
      const listed = async (query: string) =>
        ((await request(api.url).get(`/v1/jobs?${query}`).set(auth(user)).expect(200)).body.items as { id: string }[]).map((j) => j.id);
      expect(await listed('createdAfter=2026-03-02')).toEqual([ids[2], ids[1]]);
      expect(await listed('createdBefore=2026-03-02')).toEqual([ids[0]]);
      expect(await listed('createdAfter=2026-03-02T10:00:00Z&createdBefore=2026-03-03T00:00:00%2B00:00')).toEqual([ids[1]]);
      expect(await listed('createdAfter=2026-03-01T11:00:00%2B01:00&limit=1')).toEqual([ids[2]]);
      for (const bad of ['createdAfter=yesterday', 'createdBefore=2026-13-01', 'createdAfter=1700000000']) {
        const res = await request(api.url).get(`/v1/jobs?${bad}`).set(auth(user));
        expectError(res, 400, 'validation_failed');
        expect(res.body.error.details[0].path).toBe(bad.split('=')[0]);
      }
    });
  });

  it('documents all of this in the OpenAPI document', async () => {
    const doc = (await request(api.url).get('/docs/openapi.json').expect(200)).body;
    const submitOp = doc.paths['/v1/jobs/summarize'].post;
    expect(submitOp.responses['422'].content['application/json'].example.error.code).toBe('idempotency_key_reused');
    expect(submitOp.responses['202'].headers['Idempotent-Replayed']).toBeDefined();
    expect(doc.paths['/v1/jobs'].get.parameters.map((p: { name: string }) => p.name)).toEqual(expect.arrayContaining(['createdAfter', 'createdBefore']));
    expect(doc.paths['/v1/jobs/{id}'].delete.summary).toMatch(/already cancelled/);
    for (const item of Object.values(doc.paths) as Record<string, { responses?: Record<string, { headers?: object }> }>[]) {
      for (const op of Object.values(item)) for (const response of Object.values(op.responses ?? {})) expect(response.headers).toHaveProperty('X-Request-Id');
    }
  });

  describe('document formats', () => {
    it('are case-insensitive at submit and stored lowercase', async () => {
      const res = await submit({ documents: [{ name: 'report.PDF', format: 'PDF', data: pdf }, { name: 'notes', format: 'Txt', data: Buffer.from('hi').toString('base64') }] }).expect(202);
      const [row] = (await db().execute<{ input: { documents: { format: string }[] } }>(sql`select input from jobs where id = ${res.body.id}::uuid`)).rows;
      expect(row!.input.documents.map((d) => d.format)).toEqual(['pdf', 'txt']);
      expectError(await submit({ documents: [{ name: 'a.xlsx', format: 'XLSX', data: pdf }] }), 415, 'unsupported_media_type');
    });
  });
});
