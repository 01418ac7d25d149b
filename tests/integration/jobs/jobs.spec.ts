import { rmSync } from 'node:fs';
import pg from 'pg';
import request from 'supertest';
import type { RequestRecord } from '@switchboard/bedrock-emulator';
import type { Job } from '@switchboard/contracts';
import { loseRedisData, type Stack, startStack, stopProcess } from '../support/stack.js';
import { bigModel, makePdf, sleep, startReceiver, tinyModel, validSignature, waitForJob, writeModelsFile } from './jobs-support.js';

describe('batch summarization: API process + two worker processes', () => {
  let stack: Stack;
  let api: string;
  let token: string;
  let modelsFile: string;
  const calls: RequestRecord[] = [];
  const auth = () => ({ authorization: `Bearer ${token}` });
  const submit = (body: object, key?: string) => {
    const req = request(api).post('/v1/jobs/summarize').set(auth());
    if (key) req.set('idempotency-key', key);
    return req.send(body);
  };

  beforeAll(async () => {
    modelsFile = writeModelsFile();
    stack = await startStack({
      apis: 1,
      workers: 2,
      emulator: { tps: null, ttfbMs: 0 },
      env: {
        MODELS_FILE: modelsFile,
        WORKER_CONCURRENCY: '100',
        WEBHOOK_ALLOW_PRIVATE: 'true',
        WEBHOOK_BACKOFF_MS: '200',
        JOBS_RECONCILE_INTERVAL_MS: '500',
        JOBS_RECONCILE_MIN_AGE_MS: '1000',
        AUTH_SCOPE_PREFIX: 'switchboard/',
      },
    });
    api = stack.apis[0]!.url!;
    token = await stack.token('batch-client', { scopes: ['switchboard/jobs:read', 'switchboard/jobs:write'] });
    stack.emulator.on('request', (r) => calls.push(r));
  }, 120_000);

  afterAll(async () => {
    await stack?.stop();
    rmSync(modelsFile, { force: true });
  }, 60_000);

  it('summarizes a text and stores the result and usage', async () => {
    const res = await submit({ text: 'Queues decouple producers from consumers.\n\nWorkers scale on their own.', instructions: 'Be brief [[emulator:tokens=25]]' }).expect(202);
    expect(res.body).toMatchObject({ type: 'summarize', status: 'queued' });
    const job = await waitForJob(api, token, res.body.id);
    expect(job.status).toBe('completed');
    expect(job.result?.summary.length).toBeGreaterThan(0);
    expect(job.usage?.outputTokens).toBe(25);
    expect(job.progress).toBe(100);
    expect(job.startedAt && job.finishedAt).toBeTruthy();
  });

  it('accepts 1,000 concurrent submissions with repeated Idempotency-Keys; each job completes exactly once', async () => {
    const before = calls.length;
    const keys = Array.from({ length: 1000 }, (_, i) => `bulk-${i % 700}`);
    const responses = await Promise.all(
      keys.map((key, i) => submit({ text: `Document number ${i % 700}. [[emulator:tokens=5]]` }, key)),
    );
    expect(responses.filter((r) => r.status !== 202).map((r) => [r.status, r.body])).toEqual([]);
    const idByKey = new Map<string, string>();
    responses.forEach((r, i) => {
      const seen = idByKey.get(keys[i]!);
      if (seen) expect(r.body.id).toBe(seen);
      else idByKey.set(keys[i]!, r.body.id);
    });
    const ids = new Set(idByKey.values());
    expect(ids.size).toBe(700);
    // Each key made one job; every other answer for it says it is a replay.
    expect(responses.filter((r) => r.headers['idempotent-replayed'] !== 'true')).toHaveLength(700);

    const db = new pg.Client({ connectionString: stack.databaseUrl });
    await db.connect();
    try {
      const deadline = Date.now() + 90_000;
      let completed = 0;
      while (Date.now() < deadline) {
        const { rows } = await db.query(`select count(*)::int as n from jobs where id = any($1) and status = 'completed'`, [[...ids]]);
        completed = rows[0].n;
        if (completed === ids.size) break;
        await sleep(250);
      }
      expect(completed).toBe(700);
      const { rows } = await db.query(`select count(*)::int as n from jobs where type = 'summarize' and idempotency_key like 'bulk-%'`);
      expect(rows[0].n).toBe(700);
    } finally {
      await db.end();
    }
    await sleep(300);
    // Exactly one Bedrock call per job: repeats of a key never ran twice.
    const bulkCalls = calls.slice(before).filter((c) => c.modelId === bigModel && c.outcome === 'completed');
    expect(bulkCalls).toHaveLength(700);
  }, 150_000);

  it('summarizes a 50-page PDF through map-reduce, with progress rising as chunks finish', async () => {
    // Later pages answer later, so chunks finish one after another.
    const pdf = await makePdf(50, (n) => `[[emulator:tokens=15,ttfb=${n * 40}]]`);
    const before = calls.length;
    const res = await submit({ documents: [{ name: 'minutes.pdf', format: 'pdf', data: pdf.toString('base64') }], modelId: tinyModel, maxWords: 100 }).expect(202);
    const progress: number[] = [];
    const job = await waitForJob(api, token, res.body.id, { timeoutMs: 90_000, onJob: (j) => progress.push(j.progress ?? 0) });
    expect(job.status).toBe('completed');
    expect(job.result?.summary.length).toBeGreaterThan(0);
    expect(job.progress).toBe(100);
    const middle = progress.filter((p) => p > 0 && p < 100);
    expect(new Set(middle).size).toBeGreaterThanOrEqual(2);
    expect(progress).toEqual([...progress].sort((a, b) => a - b)); // never falls
    const tinyCalls = calls.slice(before).filter((c) => c.modelId === tinyModel);
    expect(tinyCalls.length).toBeGreaterThanOrEqual(5); // chunks + combine
    expect(job.usage!.inputTokens).toBeGreaterThan(15_000); // the whole text went through the model
  }, 120_000);

  it('cancels a running job: generation stops at Bedrock', async () => {
    const aborted = new Promise<RequestRecord>((resolve) => stack.emulator.on('request', (r) => r.outcome === 'aborted' && resolve(r)));
    const res = await submit({ text: 'A long report.', instructions: '[[emulator:tokens=5000,tps=100]]' }).expect(202);
    await waitForJob(api, token, res.body.id, { until: (j) => j.status === 'active' });
    await sleep(300);
    const cancel = await request(api).delete(`/v1/jobs/${res.body.id}`).set(auth()).expect(202);
    expect(cancel.body.status).toBe('cancelled');
    const record = await aborted;
    expect(record.modelId).toBe(bigModel);
    const job = await waitForJob(api, token, res.body.id);
    expect(job).toMatchObject({ status: 'cancelled', error: { code: 'cancelled' } });
    expect(job.result).toBeUndefined();
    // A retried cancel is safe: 202 with the same cancelled job.
    expect((await request(api).delete(`/v1/jobs/${res.body.id}`).set(auth()).expect(202)).body.status).toBe('cancelled');
  });

  it('cancels a running map-reduce job: its chunk calls stop too', async () => {
    const pdf = await makePdf(12, () => '[[emulator:tokens=3000,tps=100]]');
    const res = await submit({ documents: [{ name: 'slow.pdf', format: 'pdf', data: pdf.toString('base64') }], modelId: tinyModel }).expect(202);
    const before = calls.length;
    // Cancel once chunk jobs are running (they are BullMQ jobs of their own, ids <job>-L0-<n>).
    const { Redis } = await import('ioredis');
    const redis = new Redis(stack.env.REDIS_URL!);
    try {
      const deadline = Date.now() + 30_000;
      while (Date.now() < deadline) {
        const active = await redis.lrange(`${stack.env.QUEUE_PREFIX}:summarize:active`, 0, -1);
        if (active.some((id) => id.startsWith(`${res.body.id}-L0-`))) break;
        await sleep(50);
      }
    } finally {
      redis.disconnect();
    }
    await sleep(500);
    await request(api).delete(`/v1/jobs/${res.body.id}`).set(auth()).expect(202);
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline && !calls.slice(before).some((c) => c.modelId === tinyModel && c.outcome === 'aborted')) await sleep(50);
    expect(calls.slice(before).filter((c) => c.modelId === tinyModel && c.outcome === 'aborted').length).toBeGreaterThanOrEqual(1);
    expect(calls.slice(before).filter((c) => c.modelId === tinyModel && c.outcome === 'completed')).toHaveLength(0);
    expect((await waitForJob(api, token, res.body.id)).status).toBe('cancelled');
  });

  it('delivers a signed callback and retries after a 500', async () => {
    const receiver = await startReceiver([500]);
    try {
      const secret = (await request(api).post('/v1/webhooks/secret').set(auth()).expect(200)).body.secret as string;
      const res = await submit({ text: 'Callback please.', instructions: '[[emulator:tokens=8]]', callbackUrl: receiver.url, metadata: { batch: 7 } }).expect(202);
      const deadline = Date.now() + 20_000;
      while (receiver.calls.length < 2 && Date.now() < deadline) await sleep(50);
      expect(receiver.calls.map((c) => c.status)).toEqual([500, 200]);
      for (const call of receiver.calls) {
        expect(validSignature(secret, call.headers, call.body)).toBe(true);
        expect(validSignature('whsec_wrong', call.headers, call.body)).toBe(false);
      }
      expect(receiver.calls[0]!.headers['x-switchboard-delivery']).toBe(receiver.calls[1]!.headers['x-switchboard-delivery']);
      const payload = JSON.parse(receiver.calls[1]!.body) as { event: string; job: Job; metadata: unknown };
      expect(payload).toMatchObject({ event: 'job.completed', job: { id: res.body.id, status: 'completed' }, metadata: { batch: 7 } });
      expect(payload.job.result?.summary).toBeTruthy();
    } finally {
      await receiver.close();
    }
  });

  it('ends a job whose last attempt failed without Postgres hearing of it', async () => {
    stack.emulator.injectFault({ type: 'serviceUnavailable', count: 1000 });
    const db = new pg.Client({ connectionString: stack.databaseUrl });
    await db.connect();
    try {
      const res = await submit({ text: 'Doomed. [[emulator:tokens=20]]' }).expect(202);
      expect((await waitForJob(api, token, res.body.id)).status).toBe('failed');
      // What Postgres being down during the last attempt leaves: BullMQ failed it, the row stayed open.
      await db.query(`update jobs set status = 'active', error = null, finished_at = null where id = $1`, [res.body.id]);
      const ended = await waitForJob(api, token, res.body.id, { timeoutMs: 15_000 });
      expect(ended).toMatchObject({ status: 'failed', error: { code: 'internal' } });
    } finally {
      stack.emulator.clearFaults();
      await db.end();
    }
  }, 60_000);

  it('completes every accepted job after Redis loses its data', async () => {
    // No worker runs, so every job below is only queued when Redis loses it.
    await Promise.all(stack.workers.map((w) => stopProcess(w)));
    const ids: string[] = [];
    for (let i = 0; i < 60; i++) {
      const res = await submit({ text: `Survivor ${i}. [[emulator:tokens=20]]` }).expect(202);
      ids.push(res.body.id);
    }
    expect(await loseRedisData(stack, ids)).toBeGreaterThan(0);
    const worker = await stack.startWorker();
    const jobs = await Promise.all(ids.map((id) => waitForJob(api, token, id, { timeoutMs: 60_000 })));
    expect(jobs.map((j) => j.status)).toEqual(ids.map(() => 'completed'));
    expect(worker.output.join('')).toContain('reconciler: re-enqueued accepted jobs missing from Redis');
  }, 90_000);
});
