import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import pg from 'pg';
import request from 'supertest';
import { emulatorAnswer } from '@switchboard/bedrock-emulator';
import type { ConversationWithMessages } from '@switchboard/contracts';
import { chatQueueName, readJobStream } from '@switchboard/server-core';
import { startTcpProxy, type TcpProxy } from '@switchboard/testing';
import { ChatClient, range } from '../support/chat-client.js';
import { isRunning, loseRedisData, type Stack, startStack, stopProcess } from '../support/stack.js';

const modelId = 'us.anthropic.claude-sonnet-4-5-20250929-v1:0';
const answerFor = (text: string) => emulatorAnswer({ modelId, messages: [{ role: 'user', content: [{ text }] }], maxTokens: 4096 });

describe('chat when Bedrock or a worker fails', () => {
  let stack: Stack;
  let client: ChatClient;
  let token: string;

  beforeAll(async () => {
    // A quick reconciler, for the Redis data loss case.
    stack = await startStack({ apis: 1, workers: 1, env: { JOBS_RECONCILE_INTERVAL_MS: '500', JOBS_RECONCILE_MIN_AGE_MS: '1000' } });
    token = await stack.token('ops');
    client = await ChatClient.connect(stack.apis[0]!.url!, token);
  }, 120_000);

  afterEach(() => stack.emulator.clearFaults());

  afterAll(async () => {
    client?.close();
    await stack?.stop();
  }, 60_000);

  it('retries after a mid-stream error and continues where the answer stopped: no gap, no repeat', async () => {
    stack.emulator.injectFault({ type: 'streamError', afterTokens: 40, count: 1, exception: 'modelStreamErrorException' });
    const text = 'Survive a hiccup [[emulator:tokens=150]]';
    const ack = await client.send({ content: [{ type: 'text', text }] });
    if (!ack.ok) throw new Error(ack.error.message);
    await client.waitForEnd(ack.jobId);

    expect(client.statuses.get(ack.jobId)?.map((s) => s.state)).toContain('retrying');
    expect(client.statuses.get(ack.jobId)?.find((s) => s.state === 'retrying')?.attempt).toBe(2);
    const seqs = client.seqs(ack.jobId);
    expect(seqs).toEqual(range(1, seqs.length));
    const done = client.done.get(ack.jobId)!;
    expect(client.text(ack.jobId)).toBe(done.text);
    expect(done.text).toBe(answerFor(text).text);
  });

  it('steps back, without an error, when another attempt writes the same answer, and the answer still ends whole', async () => {
    const text = 'Two writers [[emulator:tokens=400,tps=80]]';
    const expected = answerFor(text).text;
    const ack = await client.send({ content: [{ type: 'text', text }] });
    if (!ack.ok) throw new Error(ack.error.message);
    await client.waitFor(() => (client.deltas.get(ack.jobId)?.length ?? 0) >= 3, 20_000, 'first deltas');
    // What a second attempt of the job does (one whose lock lapsed, or a worker that took the job
    // over meanwhile): it writes the next seq before this one does. Its text is the answer's next
    // characters, as a real continuation would be; its append time tells it from an entry this
    // worker might write itself (an identical entry is a resend, which the worker takes as its own).
    const { Redis } = await import('ioredis');
    const redis = new Redis(stack.env.REDIS_URL!);
    const takeNextSeq = `
      local top = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
      if not top[1] or top[1][1] ~= '0-' .. ARGV[1] then return 0 end
      redis.call('XADD', KEYS[1], '0-' .. (ARGV[1] + 1), 'e', ARGV[2])
      redis.call('PUBLISH', KEYS[2], ARGV[2])
      return 1`;
    try {
      for (let taken = 0; !taken; ) {
        const entries = (await redis.xrange(`{job:${ack.jobId}}:deltas`, '-', '+')).map(([, f]) => JSON.parse(f[1]!) as { seq: number; text: string });
        const delivered = entries.map((e) => e.text).join('');
        const entry = { kind: 'delta', seq: entries.at(-1)!.seq + 1, text: expected.slice(delivered.length, delivered.length + 4), at: Date.now() - 1000 };
        taken = (await redis.eval(takeNextSeq, 2, `{job:${ack.jobId}}:deltas`, `{job:${ack.jobId}}:events`, String(entry.seq - 1), JSON.stringify(entry))) as number;
      }
    } finally {
      redis.disconnect();
    }
    await client.waitForEnd(ack.jobId, 30_000);
    expect(client.errors.get(ack.jobId)).toBeUndefined();
    expect(client.done.get(ack.jobId)?.text).toBe(expected);
    expect(client.text(ack.jobId)).toBe(expected);
    const seqs = client.seqs(ack.jobId);
    expect(seqs).toEqual(range(1, seqs.length));
    expect(stack.workers[0]!.output.join('')).toContain('another attempt is writing this answer');
  });

  it('gives up after the last attempt with chat:error and a failed message, which the reconciler restores if Postgres missed it', async () => {
    stack.emulator.injectFault({ type: 'serviceUnavailable', count: 10 });
    const ack = await client.send({ content: [{ type: 'text', text: 'Will fail' }] });
    if (!ack.ok) throw new Error(ack.error.message);
    await client.waitForEnd(ack.jobId);
    expect(client.errors.get(ack.jobId)).toMatchObject({ code: 'model_error', retryable: true });
    const res = await request(stack.apis[0]!.url!)
      .get(`/v1/conversations/${ack.conversationId}`)
      .set('authorization', `Bearer ${token}`)
      .expect(200);
    expect((res.body as ConversationWithMessages).messages[1]).toMatchObject({ role: 'assistant', status: 'failed' });

    // What Postgres being down during the last attempt leaves: BullMQ failed it, the rows stayed open.
    const db = new pg.Client({ connectionString: stack.databaseUrl });
    await db.connect();
    try {
      await db.query(`update jobs set status = 'active', error = null, finished_at = null where id = $1`, [ack.jobId]);
      await db.query(`update messages set status = 'streaming' where job_id = $1 and role = 'assistant'`, [ack.jobId]);
      const deadline = Date.now() + 15_000;
      let status = 'streaming';
      while (status !== 'failed' && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 200));
        ({ status } = (await db.query(`select status from jobs where id = $1`, [ack.jobId])).rows[0]);
      }
      expect(status).toBe('failed');
      const { rows } = await db.query(`select status from messages where job_id = $1 and role = 'assistant'`, [ack.jobId]);
      expect(rows[0].status).toBe('failed');
    } finally {
      await db.end();
    }
  });

  it('lets a running answer finish when its worker gets SIGTERM', async () => {
    const text = 'Finish before you go [[emulator:tokens=300,tps=300]]';
    const ack = await client.send({ content: [{ type: 'text', text }] });
    if (!ack.ok) throw new Error(ack.error.message);
    await client.waitFor(() => (client.deltas.get(ack.jobId)?.length ?? 0) >= 2, 20_000, 'first deltas');
    const worker = stack.workers[0]!;
    await stopProcess(worker, 'SIGTERM');
    expect(isRunning(worker)).toBe(false);
    expect(worker.child.exitCode).toBe(0);
    await client.waitForEnd(ack.jobId);
    expect(client.done.get(ack.jobId)?.text).toBe(answerFor(text).text);
    // A new worker picks up work sent while there was none.
    const next = await client.send({ content: [{ type: 'text', text: 'Anyone there? [[emulator:tokens=10]]' }] });
    if (!next.ok) throw new Error(next.error.message);
    await stack.startWorker();
    await client.waitForEnd(next.jobId);
    expect(client.done.get(next.jobId)?.stopReason).toBe('end_turn');
  });
  it('stops the call of a job that ended while a worker picked it up, and leaves the ending as it was', async () => {
    // No worker while the job ends, so the ending lands before any worker has the job.
    await Promise.all(stack.workers.filter(isRunning).map((w) => stopProcess(w, 'SIGTERM')));
    const ack = await client.send({ content: [{ type: 'text', text: 'Ended elsewhere [[emulator:tokens=3000,tps=100]]' }] });
    if (!ack.ok) throw new Error(ack.error.message);
    // Ended in Postgres only (no queue removal, no cancel signal): what a lost race with a cancel leaves.
    const db = new pg.Client({ connectionString: stack.databaseUrl });
    await db.connect();
    const queue = new Queue(chatQueueName, { connection: { url: stack.env.REDIS_URL }, prefix: stack.env.QUEUE_PREFIX });
    try {
      await db.query(`update jobs set status = 'cancelled', finished_at = now() where id = $1`, [ack.jobId]);
      await stack.startWorker();
      // The answer would stream for 30 s; the worker lets go of the job long before.
      const deadline = Date.now() + 10_000;
      while ((await queue.getJobState(ack.jobId)) !== 'completed') {
        if (Date.now() > deadline) throw new Error(`job still ${await queue.getJobState(ack.jobId)} after 10 s`);
        await new Promise((r) => setTimeout(r, 100));
      }
      const { rows } = await db.query(`select status from jobs where id = $1`, [ack.jobId]);
      expect(rows[0].status).toBe('cancelled');
      expect(client.done.get(ack.jobId)).toBeUndefined();
    } finally {
      await queue.close();
      await db.end();
    }
  });

  it('answers every accepted chat after Redis loses its data', async () => {
    // No worker runs, so the chats below are only queued when Redis loses them.
    await Promise.all(stack.workers.filter(isRunning).map((w) => stopProcess(w, 'SIGTERM')));
    const texts = range(1, 5).map((i) => `Lost and found ${i} [[emulator:tokens=20]]`);
    const acks = await Promise.all(texts.map((text) => client.send({ content: [{ type: 'text', text }] })));
    const jobIds = acks.map((ack) => {
      if (!ack.ok) throw new Error(ack.error.message);
      return ack.jobId;
    });
    expect(await loseRedisData(stack, jobIds)).toBeGreaterThan(0);
    const worker = await stack.startWorker();
    await Promise.all(jobIds.map((id) => client.waitForEnd(id, 30_000)));
    expect(jobIds.map((id) => client.done.get(id)?.text)).toEqual(texts.map((text) => answerFor(text).text));
    expect(worker.output.join('')).toContain('reconciler: re-enqueued accepted chats missing from Redis');
  }, 60_000);
});

describe('chat when the worker loses Postgres', () => {
  let stack: Stack;
  let client: ChatClient;
  let proxy: TcpProxy;

  beforeAll(async () => {
    // No worker of the stack's own: the one below reaches Postgres only through the proxy. The
    // reconciler waits long, so the ending heard below can only be the worker's.
    stack = await startStack({ apis: 1, workers: 0, env: { JOBS_RECONCILE_MIN_AGE_MS: '600000' } });
    const db = new URL(stack.databaseUrl);
    proxy = await startTcpProxy({ host: db.hostname, port: Number(db.port || 5432) });
    db.host = `127.0.0.1:${proxy.port}`;
    await stack.startWorker({ DATABASE_URL: db.toString() });
    client = await ChatClient.connect(stack.apis[0]!.url!, await stack.token('pg-outage'));
  }, 120_000);

  afterAll(async () => {
    client?.close();
    await stack?.stop();
    await proxy?.close();
  }, 60_000);

  it('tells the client at once when every attempt failed on Postgres, and leaves the record to the reconciler', async () => {
    proxy.cut();
    const started = Date.now();
    const ack = await client.send({ content: [{ type: 'text', text: 'Postgres is gone [[emulator:tokens=20]]' }] });
    if (!ack.ok) throw new Error(ack.error.message);
    await client.waitForEnd(ack.jobId, 20_000);
    // Three attempts with their backoff (0.5 s, 1 s), not the reconciler (10 minutes here).
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(client.errors.get(ack.jobId)).toMatchObject({ code: 'internal', retryable: true });
    // One ending in the stream; Postgres still calls the job open until the reconciler records it.
    const redis = new Redis(stack.env.REDIS_URL!);
    const db = new pg.Client({ connectionString: stack.databaseUrl });
    await db.connect();
    try {
      const entries = await readJobStream(redis, ack.jobId, 0);
      expect(entries.filter((e) => e.kind !== 'delta')).toHaveLength(1);
      const { rows } = await db.query(`select status from jobs where id = $1`, [ack.jobId]);
      expect(['queued', 'active']).toContain(rows[0].status);
    } finally {
      redis.disconnect();
      await db.end();
      proxy.restore();
    }
  }, 30_000);
});
