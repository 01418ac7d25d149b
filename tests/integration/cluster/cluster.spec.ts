import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { emulatorAnswer } from '@switchboard/bedrock-emulator';
import type { Job, ModelEntry } from '@switchboard/contracts';
import { modelTag } from '@switchboard/server-core';
import { startRedisCluster, type TestRedisCluster } from '@switchboard/testing';
import { ChatClient, range } from '../support/chat-client.js';
import { isRunning, type Stack, startStack, stopProcess } from '../support/stack.js';

const model = (id: string, requestsPerMinute: number, extra: Partial<ModelEntry> = {}): ModelEntry => ({
  id,
  name: id,
  vision: false,
  documents: true,
  maxOutputTokens: 4096,
  contextWindow: 200_000,
  quota: { requestsPerMinute, tokensPerMinute: 100_000_000 },
  price: { inputPer1k: 0.001, outputPer1k: 0.005 },
  ...extra,
});
const windowMs = 3000;
const catalog = [model('test.cluster-a', 100_000, { default: true }), model('test.cluster-b', 100_000), model('test.cluster-slow', 2)];
const answerFor = (modelId: string, text: string) => emulatorAnswer({ modelId, messages: [{ role: 'user', content: [{ text }] }], maxTokens: 4096 });

/**
 * The stack on a real Redis Cluster (3 primaries + 3 replicas of `redis-server`, started here):
 * two API nodes and two workers with REDIS_CLUSTER=true. Chat, resume on another node, quota,
 * batch, the reconciler after one shard loses its data, and a primary failing over to its replica
 * while answers stream.
 */
describe('Redis Cluster: the stack on 3 shards', () => {
  let cluster: TestRedisCluster;
  let stack: Stack;
  let token: string;
  let modelsDir: string;
  const clients: ChatClient[] = [];
  const connect = async (api: number) => {
    const client = await ChatClient.connect(stack.apis[api]!.url!, token);
    clients.push(client);
    return client;
  };
  const send = async (client: ChatClient, text: string, modelId = catalog[0]!.id) => {
    const ack = await client.send({ content: [{ type: 'text', text }], modelId });
    if (!ack.ok) throw new Error(ack.error.message);
    return ack;
  };

  beforeAll(async () => {
    cluster = await startRedisCluster();
    modelsDir = mkdtempSync(join(tmpdir(), 'sb-cluster-models-'));
    writeFileSync(join(modelsDir, 'models.json'), JSON.stringify(catalog));
    stack = await startStack({
      apis: 2,
      workers: 2,
      emulator: { models: catalog, windowMs, strict: true, tps: 400, ttfbMs: 5 },
      env: {
        REDIS_URL: cluster.url,
        REDIS_CLUSTER: 'true',
        MODELS_FILE: join(modelsDir, 'models.json'),
        QUOTA_WINDOW_MS: String(windowMs),
        QUOTA_SAFETY_MARGIN_MS: '100',
        JOBS_RECONCILE_INTERVAL_MS: '500',
        JOBS_RECONCILE_MIN_AGE_MS: '1000',
        // One user sends 16 chats here, under the per-minute default (60): the rate limiters run on the
        // cluster too; only the open-chat cap is off (the failover test holds 6 open at once).
        RATE_CHAT_CONCURRENT: '0',
        LOG_LEVEL: 'warn',
      },
    });
    token = await stack.token('cluster-user', { scopes: ['jobs:read', 'jobs:write'] });
  }, 120_000);

  afterEach(() => {
    for (const c of clients.splice(0)) c.close();
  });

  afterAll(async () => {
    await stack?.stop();
    await cluster?.stop();
    if (modelsDir) rmSync(modelsDir, { recursive: true, force: true });
  }, 60_000);

  it('streams chats on two models to sockets on both API nodes and resumes by seq on the other node', async () => {
    const a = await connect(0);
    const b = await connect(1);
    const texts = catalog.slice(0, 2).map((m) => [m.id, `Cluster hello on ${m.id} [[emulator:tokens=150]]`] as const);
    const acks = await Promise.all(texts.map(([modelId, text]) => send(a, text, modelId)));
    await Promise.all(acks.map((ack) => Promise.all([a.waitForEnd(ack.jobId), b.waitForEnd(ack.jobId)])));
    acks.forEach((ack, i) => {
      const expected = answerFor(texts[i]![0], texts[i]![1]);
      expect(a.done.get(ack.jobId)?.text).toBe(expected.text);
      expect(a.text(ack.jobId)).toBe(expected.text);
      expect(a.seqs(ack.jobId)).toEqual(range(1, a.seqs(ack.jobId).length));
      expect(b.deltas.get(ack.jobId)).toEqual(a.deltas.get(ack.jobId));
    });

    // Each model's chat queue lives under the model's own tag (one slot per lane).
    for (const [modelId] of texts) {
      const key = chatQueueKey(modelId);
      expect(await cluster.cli(await cluster.primaryForKey(key), 'EXISTS', key)).toBe('1');
    }

    // A client that lost its socket after seq 3 reconnects to the other node and resumes there.
    const late = await connect(1);
    const jobId = acks[0]!.jobId;
    expect(await late.emit('chat:resume', { jobId, afterSeq: 3 })).toEqual({ ok: true });
    await late.waitForEnd(jobId);
    expect(late.seqs(jobId)).toEqual(a.seqs(jobId).slice(3));
    expect(late.done.get(jobId)).toEqual(a.done.get(jobId));
  });

  it('holds a model to its quota across workers: chats beyond it wait in line and all complete', async () => {
    const a = await connect(0);
    const slow = catalog[2]!.id;
    const texts = range(1, 4).map((i) => `Wait your turn ${i} [[emulator:tokens=5]]`);
    const acks = await Promise.all(texts.map((text) => send(a, text, slow)));
    await Promise.all(acks.map((ack) => a.waitForEnd(ack.jobId, 40_000)));
    expect(acks.map((ack) => a.done.get(ack.jobId)?.text)).toEqual(texts.map((t) => answerFor(slow, t).text));
    // 2 requests per window: at least two of the four waited for the next one (the emulator
    // throttles strictly; nothing was throttled, or those would have waited too).
    const waited = acks.filter((ack) => a.statuses.get(ack.jobId)?.some((s) => s.state === 'queued' && s.position !== undefined));
    expect(waited.length).toBeGreaterThanOrEqual(2);
  });

  it('summarizes a batch job', async () => {
    const res = await request(stack.apis[1]!.url!)
      .post('/v1/jobs/summarize')
      .set('authorization', `Bearer ${token}`)
      .set('idempotency-key', 'cluster-batch-1')
      .send({ text: 'Shards share the work.\n\nEach model has its own lane.', instructions: 'Be brief [[emulator:tokens=20]]' })
      .expect(202);
    const job = await waitForJob(stack.apis[0]!.url!, res.body.id as string);
    expect(job.status).toBe('completed');
    expect(job.usage?.outputTokens).toBe(20);
  });

  it('answers every accepted chat and job after the shard holding their queue loses its data', async () => {
    await Promise.all(stack.workers.filter(isRunning).map((w) => stopProcess(w, 'SIGTERM')));
    const a = await connect(0);
    const modelId = catalog[1]!.id;
    const texts = range(1, 3).map((i) => `Lost on a shard ${i} [[emulator:tokens=15]]`);
    const acks = await Promise.all(texts.map((text) => send(a, text, modelId)));
    const submitted = await request(stack.apis[0]!.url!)
      .post('/v1/jobs/summarize')
      .set('authorization', `Bearer ${token}`)
      .set('idempotency-key', 'cluster-batch-lost')
      .send({ text: 'Lost and found.', instructions: 'Short [[emulator:tokens=10]]', modelId })
      .expect(202);
    const shards = new Set([await cluster.primaryForKey(chatQueueKey(modelId)), await cluster.primaryForKey(summarizeQueueKey(modelId))]);
    for (const shard of shards) await cluster.flushShard(shard);
    const worker = await stack.startWorker();
    await Promise.all(acks.map((ack) => a.waitForEnd(ack.jobId, 30_000)));
    expect(acks.map((ack) => a.done.get(ack.jobId)?.text)).toEqual(texts.map((t) => answerFor(modelId, t).text));
    expect((await waitForJob(stack.apis[0]!.url!, submitted.body.id as string)).status).toBe('completed');
    expect(worker.output.join('')).toContain('re-enqueued');
    await stack.startWorker();
  }, 60_000);

  it('keeps streams in flight complete when a primary fails over to its replica: nothing lost or duplicated', async () => {
    const a = await connect(0);
    const texts = range(1, 6).map((i) => `Through a failover ${i} [[emulator:tokens=2000]]`);
    const acks = await Promise.all(texts.map((text, i) => send(a, text, catalog[i % 2]!.id)));
    await a.waitFor(() => acks.every((ack) => (a.deltas.get(ack.jobId)?.length ?? 0) >= 3), 20_000, 'first deltas of every stream');
    expect(acks.filter((ack) => a.done.has(ack.jobId))).toEqual([]);
    // Two of the three shards lose their primary mid-answer, one after the other: a planned
    // failover (CLUSTER FAILOVER on the replica), then an unplanned one (the primary is killed and
    // its replica promoted by the cluster).
    const [first, second] = await cluster.primaries();
    await cluster.failOver(first!.port);
    await cluster.failOverByKill(second!.port);
    // Where each stream stood, and what the workers said, to tell a stuck stream from a slow one
    // and to name the cause of an error ending.
    const explain = (why: string) => {
      const streams = acks.map((ack) => `${ack.jobId}: ${a.seqs(ack.jobId).length} deltas, done ${a.done.has(ack.jobId)}, error ${JSON.stringify(a.errors.get(ack.jobId))}`);
      const logs = stack.workers.map((w) => `${w.name}: ${w.output.join('').slice(-4000)}`);
      return new Error(`${why}\n${streams.join('\n')}\n${logs.join('\n')}`);
    };
    await Promise.all(acks.map((ack) => a.waitForEnd(ack.jobId, 45_000))).catch((err: Error) => {
      throw explain(err.message);
    });
    if (acks.some((ack) => a.errors.has(ack.jobId))) throw explain('a stream ended in an error');
    acks.forEach((ack, i) => {
      const expected = answerFor(catalog[i % 2]!.id, texts[i]!);
      expect(a.errors.get(ack.jobId)).toBeUndefined();
      expect(a.done.get(ack.jobId)?.text).toBe(expected.text);
      expect(a.text(ack.jobId)).toBe(expected.text);
      expect(a.seqs(ack.jobId)).toEqual(range(1, a.seqs(ack.jobId).length));
    });
    // A reader on the other node resuming from the start gets the same entries by seq.
    const b = await connect(1);
    for (const ack of acks) {
      expect(await b.emit('chat:resume', { jobId: ack.jobId, afterSeq: 0 })).toEqual({ ok: true });
      await b.waitForEnd(ack.jobId);
      expect(b.deltas.get(ack.jobId)).toEqual(a.deltas.get(ack.jobId));
    }
  }, 60_000);

  /** On a cluster each model's chat queue is under the model's tag, next to its quota keys. */
  function chatQueueKey(modelId: string) {
    return `${modelTag(stack.env.QUEUE_PREFIX!, modelId)}:chat:meta`;
  }
  function summarizeQueueKey(_modelId: string) {
    return `${stack.env.QUEUE_PREFIX}:summarize:meta`;
  }
  async function waitForJob(url: string, id: string): Promise<Job> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const res = await request(url).get(`/v1/jobs/${id}`).set('authorization', `Bearer ${token}`);
      const job = res.body as Job;
      if (['completed', 'failed', 'cancelled'].includes(job.status)) return job;
      if (Date.now() > deadline) throw new Error(`job ${id} still ${job.status}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
});
