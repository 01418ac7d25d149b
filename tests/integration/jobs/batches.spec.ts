import { createHmac, timingSafeEqual } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import request from 'supertest';
import type { RequestRecord } from '@switchboard/bedrock-emulator';
import { type Batch, batchResultLineSchema, batchSchema, type Job, jobSchema, webhookDeliveryPageSchema } from '@switchboard/contracts';
import { type Stack, startStack } from '../support/stack.js';
import { sleep, startReceiver, waitForJob } from './jobs-support.js';

const mainModel = 'test.summarizer-main';
/** Only the 500-item batch uses this model, so the emulator's calls for it count that batch's calls. */
const batchModel = 'test.summarizer-batch';

/** A receiver's check: any of the comma-separated signatures matches HMAC-SHA256("<timestamp>.<body>") keyed with the whole whsec_ string. */
function signedWith(secret: string, headers: IncomingMessage['headers'], body: string): boolean {
  const expected = Buffer.from(`sha256=${createHmac('sha256', secret).update(`${headers['x-switchboard-timestamp']}.${body}`).digest('hex')}`);
  return String(headers['x-switchboard-signature'] ?? '')
    .split(',')
    .some((sig) => sig.length === expected.length && timingSafeEqual(Buffer.from(sig), expected));
}

/**
 * Issue 17 (batch integrators), with real API and worker processes: bulk batches, callbacks that
 * outlast an outage (short settings stand in for the day-long schedule), the delivery log and
 * redelivery, rotation grace, retention and purge, metadata filters and sort.
 */
describe('batches and callbacks for integrators', () => {
  let stack: Stack;
  let api: string;
  let token: string;
  let modelsFile: string;
  const calls: RequestRecord[] = [];
  const auth = () => ({ authorization: `Bearer ${token}` });
  const getBatch = async (id: string) => batchSchema.parse((await request(api).get(`/v1/batches/${id}`).set(auth()).expect(200)).body);
  const waitForBatch = async (id: string, done: (b: Batch) => boolean, timeoutMs = 90_000): Promise<Batch> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const batch = await getBatch(id);
      if (done(batch)) return batch;
      if (Date.now() > deadline) throw new Error(`batch ${id}: ${JSON.stringify(batch)}`);
      await sleep(200);
    }
  };
  const until = async <T>(what: string, read: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 60_000): Promise<T> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await read();
      if (ok(value)) return value;
      if (Date.now() > deadline) throw new Error(`${what}: ${JSON.stringify(value)}`);
      await sleep(100);
    }
  };

  beforeAll(async () => {
    const base = { vision: false, documents: true, quota: { requestsPerMinute: 1_000_000, tokensPerMinute: 1_000_000_000 }, maxOutputTokens: 4096, contextWindow: 200_000 };
    modelsFile = join(tmpdir(), `sb-batch-models-${process.pid}-${Date.now()}.json`);
    writeFileSync(
      modelsFile,
      JSON.stringify([
        { ...base, id: mainModel, name: 'Main', price: { inputPer1k: 0.003, outputPer1k: 0.015 }, default: true },
        { ...base, id: batchModel, name: 'Batch', price: { inputPer1k: 0.001, outputPer1k: 0.005 } },
      ]),
    );
    stack = await startStack({
      apis: 1,
      workers: 1,
      emulator: { tps: null, ttfbMs: 0 },
      env: {
        MODELS_FILE: modelsFile,
        WORKER_CONCURRENCY: '100',
        WEBHOOK_ALLOW_PRIVATE: 'true',
        // The day-long schedule, shortened: 40 attempts 20–50 ms apart.
        WEBHOOK_ATTEMPTS: '40',
        WEBHOOK_BACKOFF_MS: '20',
        WEBHOOK_BACKOFF_MAX_MS: '50',
        JOBS_RECONCILE_INTERVAL_MS: '300',
        JOBS_RECONCILE_MIN_AGE_MS: '1000',
        JOBS_INPUT_RETENTION_MS: '1500',
        JOBS_RESULT_RETENTION_MS: '0',
        JOBS_PURGE_INTERVAL_MS: '300',
        JOBS_MAX_BODY_BYTES: String(4 * 1024 * 1024),
        BATCH_MAX_ITEMS: '1000',
        RATE_CHAT_CONCURRENT: '0',
        RATE_CHAT_PER_MINUTE: '0',
        RATE_JOBS_PER_MINUTE: '0',
      },
    });
    api = stack.apis[0]!.url!;
    token = await stack.token('batch-integrator', { scopes: ['jobs:read', 'jobs:write'] });
    stack.emulator.on('request', (r) => calls.push(r));
  }, 120_000);

  afterAll(async () => {
    await stack?.stop();
    rmSync(modelsFile, { force: true });
  }, 60_000);

  it('a 500-item JSONL batch becomes 500 jobs, one Bedrock call each, complete JSONL results and one batch callback', async () => {
    const receiver = await startReceiver();
    try {
      const lines = Array.from({ length: 500 }, (_, i) =>
        JSON.stringify({ customId: `doc-${i}`, text: `Item ${i}: the quarterly numbers went up. [[emulator:tokens=5]]`, modelId: batchModel, metadata: { team: 'finance', n: i } }),
      );
      const res = await request(api)
        .post(`/v1/batches?callbackUrl=${encodeURIComponent(receiver.url)}`)
        .set(auth())
        .set('content-type', 'application/x-ndjson')
        .set('idempotency-key', 'nightly-500')
        .send(lines.join('\n') + '\n')
        .expect(202);
      const created = batchSchema.parse(res.body);
      expect(created).toMatchObject({ status: 'queued', total: 500, counts: { queued: 500 } });
      // Every item is a job in Postgres by the time of the 202.
      const page = await request(api).get(`/v1/jobs?batchId=${created.id}&limit=100&sort=createdAt`).set(auth()).expect(200);
      expect(page.body.items).toHaveLength(100);
      expect(page.body.items[0]).toMatchObject({ batchId: created.id, customId: expect.stringMatching(/^doc-/), modelId: batchModel, metadata: { team: 'finance' } });

      // A retry of the same request replays the batch; the key with another body is refused.
      const replay = await request(api).post(`/v1/batches?callbackUrl=${encodeURIComponent(receiver.url)}`).set(auth()).set('content-type', 'application/x-ndjson').set('idempotency-key', 'nightly-500').send(lines.join('\n') + '\n').expect(202);
      expect(replay.headers['idempotent-replayed']).toBe('true');
      expect(replay.body.id).toBe(created.id);
      const reused = await request(api).post('/v1/batches').set(auth()).set('idempotency-key', 'nightly-500').send({ items: [{ customId: 'x', text: 'other' }] }).expect(422);
      expect(reused.body.error.code).toBe('idempotency_key_reused');

      const done = await waitForBatch(created.id, (b) => b.status === 'completed');
      expect(done.counts).toEqual({ queued: 0, active: 0, completed: 500, failed: 0, cancelled: 0 });
      expect(done.finishedAt).toBeTruthy();

      const results = await request(api).get(`/v1/batches/${created.id}/results`).set(auth()).buffer(true).parse((r, cb) => {
        let text = '';
        r.on('data', (c: Buffer) => (text += c.toString()));
        r.on('end', () => cb(null, text));
      });
      expect(results.status).toBe(200);
      expect(results.headers['content-type']).toMatch(/application\/x-ndjson/);
      const parsed = (results.body as string).trim().split('\n').map((l) => batchResultLineSchema.parse(JSON.parse(l)));
      expect(parsed.map((l) => l.customId)).toEqual(lines.map((_, i) => `doc-${i}`));
      for (const line of parsed) {
        expect(line.status).toBe('completed');
        expect(line.summary?.length).toBeGreaterThan(0);
        expect(line.usage?.outputTokens).toBe(5);
        expect(line.costUsd).toBeGreaterThan(0);
      }
      expect(new Set(parsed.map((l) => l.jobId)).size).toBe(500);
      // Exactly one Bedrock call per item.
      expect(calls.filter((c) => c.modelId === batchModel && c.outcome === 'completed')).toHaveLength(500);
      expect(calls.filter((c) => c.modelId === batchModel)).toHaveLength(500);

      const delivered = await waitForBatch(created.id, (b) => b.callback?.status === 'delivered');
      expect(delivered.callback).toEqual({ status: 'delivered', attempts: 1 });
      const batchCalls = receiver.calls.filter((c) => c.headers['x-switchboard-event'] === 'batch.completed');
      expect(batchCalls).toHaveLength(1);
      expect(JSON.parse(batchCalls[0]!.body)).toMatchObject({ event: 'batch.completed', batch: { id: created.id, counts: { completed: 500 } } });
      expect(batchCalls[0]!.headers['x-switchboard-delivery']).toBe(`wh-${created.id}`);
    } finally {
      await receiver.close();
    }
  }, 120_000);

  it('a single job submitted after a large batch does not wait for the whole batch (batch items queue behind it)', async () => {
    // 300 items of ~200 ms each through 100 worker slots: about three rounds.
    const items = Array.from({ length: 300 }, (_, i) => ({ customId: `bulk-${i}`, text: `Bulk ${i}. [[emulator:tokens=10,tps=50]]` }));
    const { body } = await request(api).post('/v1/batches').set(auth()).send({ items }).expect(202);
    const single = (await request(api).post('/v1/jobs/summarize').set(auth()).send({ text: 'Urgent. [[emulator:tokens=10,tps=50]]' }).expect(202)).body;
    const job = await waitForJob(api, token, single.id);
    const batch = await waitForBatch(body.id, (b) => b.status === 'completed');
    expect(job.status).toBe('completed');
    // It ran in the first rounds, not after the 300 items submitted before it (FIFO would put it last).
    const db = new pg.Client({ connectionString: stack.databaseUrl });
    await db.connect();
    try {
      const { rows } = await db.query(`select count(*)::int as n from jobs where batch_id = $1 and finished_at > $2`, [body.id, job.finishedAt]);
      expect(rows[0].n).toBeGreaterThan(100);
    } finally {
      await db.end();
    }
    expect(Date.parse(job.finishedAt!)).toBeLessThan(Date.parse(batch.finishedAt!));
  }, 60_000);

  it('refuses a batch with invalid items as a whole, listing every item error', async () => {
    const before = (await request(api).get('/v1/jobs?limit=100&metadata.check=invalid').set(auth()).expect(200)).body.items.length;
    const res = await request(api)
      .post('/v1/batches')
      .set(auth())
      .send({
        items: [
          { customId: 'a', text: 'fine', metadata: { check: 'invalid' } },
          { customId: 'a', text: 'duplicate id' },
          { customId: 'b' },
          { customId: 'c', text: 'x', modelId: 'nope' },
          { customId: 'd', documents: [{ name: 'a.xlsx', format: 'XLSX', data: 'AAAA' }] },
        ],
      })
      .expect(400);
    expect(res.body.error.code).toBe('validation_failed');
    // Shape errors (item 2 has neither text nor documents) come first, alone.
    expect(res.body.error.details.map((d: { path: string }) => d.path)).toEqual(['items.2']);
    const second = await request(api)
      .post('/v1/batches')
      .set(auth())
      .send({ items: [{ customId: 'a', text: 'fine', metadata: { check: 'invalid' } }, { customId: 'a', text: 'dup' }, { customId: 'c', text: 'x', modelId: 'nope' }, { customId: 'd', documents: [{ name: 'a.xlsx', format: 'XLSX', data: 'AAAA' }] }] })
      .expect(400);
    expect(second.body.error.details).toEqual([
      { path: 'items.1.customId', message: expect.stringContaining('duplicate customId "a"') },
      { path: 'items.2.modelId', message: expect.stringContaining('Unknown model "nope"'), code: 'model_not_found' },
      { path: 'items.3.documents.0.format', message: expect.stringContaining('unsupported format "xlsx"'), code: 'unsupported_media_type' },
    ]);
    const after = (await request(api).get('/v1/jobs?limit=100&metadata.check=invalid').set(auth()).expect(200)).body.items.length;
    expect(after).toBe(before); // nothing stored
    expect((await request(api).post('/v1/batches').set(auth()).set('content-type', 'text/csv').send('a,b')).status).toBe(415);
    const tooMany = await request(api).post('/v1/batches').set(auth()).send({ items: Array.from({ length: 1001 }, (_, i) => ({ customId: `${i}`, text: 'x' })) });
    expect(tooMany.status).toBe(413);
    expect(tooMany.body.error).toMatchObject({ code: 'payload_too_large', details: { limit: 1000 } });
  });

  it('cancels the rest of a batch: 202, running items stop, one batch.cancelled callback', async () => {
    const receiver = await startReceiver();
    try {
      const items = Array.from({ length: 20 }, (_, i) => ({ customId: `slow-${i}`, text: `Slow item ${i}. [[emulator:tokens=3000,tps=50]]` }));
      const { body } = await request(api).post('/v1/batches').set(auth()).send({ items, callbackUrl: receiver.url, metadata: { run: 'cancel-test' } }).expect(202);
      await waitForBatch(body.id, (b) => b.counts.active > 0);
      const cancelled = batchSchema.parse((await request(api).delete(`/v1/batches/${body.id}`).set(auth()).expect(202)).body);
      expect(cancelled.status).toBe('cancelled');
      expect(cancelled.counts.cancelled).toBe(20);
      // Safe to retry.
      expect((await request(api).delete(`/v1/batches/${body.id}`).set(auth()).expect(202)).body.status).toBe('cancelled');
      // Running items stop at Bedrock.
      await until('aborted streams', async () => calls.filter((c) => c.outcome === 'aborted').length, (n) => n >= 1);
      await until('batch.cancelled callback', async () => receiver.calls.length, (n) => n >= 1);
      expect(JSON.parse(receiver.calls[0]!.body)).toMatchObject({ event: 'batch.cancelled', batch: { id: body.id, status: 'cancelled' }, metadata: { run: 'cancel-test' } });
      const lines = (await request(api).get(`/v1/batches/${body.id}/results`).set(auth()).expect(200)).text.trim().split('\n');
      expect(lines.map((l) => JSON.parse(l).status)).toEqual(Array(20).fill('cancelled'));
    } finally {
      await receiver.close();
    }
  });

  it('delivers a callback after the receiver was down through 30 attempts (longer than the old 10-attempt, 17-minute window), with a delivery log and redelivery', async () => {
    const receiver = await startReceiver(Array(30).fill(503));
    try {
      const { body } = await request(api).post('/v1/jobs/summarize').set(auth()).send({ text: 'Outage report. [[emulator:tokens=5]]', callbackUrl: receiver.url, metadata: { team: 'ops' } }).expect(202);
      const job = await until('callback delivered', async () => jobSchema.parse((await request(api).get(`/v1/jobs/${body.id}`).set(auth()).expect(200)).body), (j) => j.callback?.status === 'delivered');
      expect(job.callback).toEqual({ status: 'delivered', attempts: 31 });
      expect(receiver.calls.map((c) => c.status)).toEqual([...Array(30).fill(503), 200]);
      // The same delivery id on every attempt: receivers de-duplicate by it.
      expect(new Set(receiver.calls.map((c) => c.headers['x-switchboard-delivery']))).toEqual(new Set([`wh-${body.id}`]));
      const log = webhookDeliveryPageSchema.parse((await request(api).get(`/v1/jobs/${body.id}/deliveries`).set(auth()).expect(200)).body);
      expect(log.items.map((d) => d.status)).toEqual([...Array(30).fill(503), 200]);
      expect(log.items[0]!.error).toMatch(/HTTP 503/);
      expect(log.items.at(-1)!.error).toBeUndefined();

      const again = jobSchema.parse((await request(api).post(`/v1/jobs/${body.id}/deliveries`).set(auth()).expect(202)).body);
      expect(again.callback?.status).toBe('pending');
      await until('redelivery', async () => receiver.calls.length, (n) => n === 32);
      expect(receiver.calls[31]!.headers['x-switchboard-delivery']).toBe(`wh-${body.id}`);
      // A job without a callbackUrl has nothing to redeliver.
      const plain = (await request(api).post('/v1/jobs/summarize').set(auth()).send({ text: 'No callback. [[emulator:tokens=5]]' }).expect(202)).body;
      expect((await request(api).post(`/v1/jobs/${plain.id}/deliveries`).set(auth())).status).toBe(409);
    } finally {
      await receiver.close();
    }
  }, 90_000);

  it('during a secret rotation a receiver holding only the old secret still verifies callbacks', async () => {
    const user = await stack.token('rotating-client', { scopes: ['jobs:read', 'jobs:write'] });
    const old = (await request(api).get('/v1/webhooks/secret').set('authorization', `Bearer ${user}`).expect(200)).body.secret as string;
    expect(old).toMatch(/^whsec_/);
    const rotated = (await request(api).post('/v1/webhooks/secret').set('authorization', `Bearer ${user}`).expect(200)).body;
    expect(rotated.previousValidUntil).toBeTruthy();
    const receiver = await startReceiver();
    try {
      await request(api).post('/v1/jobs/summarize').set('authorization', `Bearer ${user}`).send({ text: 'Rotation. [[emulator:tokens=5]]', callbackUrl: receiver.url }).expect(202);
      await until('callback', async () => receiver.calls.length, (n) => n >= 1);
      const call = receiver.calls[0]!;
      expect(String(call.headers['x-switchboard-signature']).split(',')).toHaveLength(2);
      expect(signedWith(old, call.headers, call.body)).toBe(true);
      expect(signedWith(rotated.secret, call.headers, call.body)).toBe(true);
      expect(signedWith('whsec_someone-else', call.headers, call.body)).toBe(false);
    } finally {
      await receiver.close();
    }
  });

  it('filters jobs by metadata, sorts them, and purges inputs past retention and on DELETE ?purge=true', async () => {
    const ids: string[] = [];
    for (const [i, team] of ['red', 'blue', 'red'].entries()) {
      ids.push((await request(api).post('/v1/jobs/summarize').set(auth()).send({ text: `Sorted ${i}. [[emulator:tokens=5]]`, metadata: { colour: team } }).expect(202)).body.id);
    }
    const red = (await request(api).get('/v1/jobs?metadata.colour=red&sort=createdAt').set(auth()).expect(200)).body.items as Job[];
    expect(red.map((j) => j.id)).toEqual([ids[0], ids[2]]);
    const redNewest = (await request(api).get('/v1/jobs?metadata.colour=red').set(auth()).expect(200)).body.items as Job[];
    expect(redNewest.map((j) => j.id)).toEqual([ids[2], ids[0]]);
    expect((await request(api).get('/v1/jobs?sort=updatedAt').set(auth())).status).toBe(400);

    // Retention (JOBS_INPUT_RETENTION_MS=1500 here): the text is erased, the summary kept.
    await waitForJob(api, token, ids[0]!);
    const kept = await until('input purged', async () => jobSchema.parse((await request(api).get(`/v1/jobs/${ids[0]}`).set(auth()).expect(200)).body), (j) => Boolean(j.inputPurgedAt), 30_000);
    expect(kept.result?.summary).toBeTruthy();
    expect(kept.resultPurgedAt).toBeUndefined();

    // Purge now: input and result are gone, the status and usage stay.
    await waitForJob(api, token, ids[1]!);
    const purged = jobSchema.parse((await request(api).delete(`/v1/jobs/${ids[1]}?purge=true`).set(auth()).expect(202)).body);
    expect(purged.status).toBe('completed');
    expect(purged.result).toBeUndefined();
    expect(purged.inputPurgedAt && purged.resultPurgedAt).toBeTruthy();
    expect(purged.usage?.outputTokens).toBe(5);
    expect((await request(api).delete(`/v1/jobs/${ids[1]}?purge=yes`).set(auth())).status).toBe(400);
  });
});
