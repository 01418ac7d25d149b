import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { builtInCatalog, QuotaGovernor } from '@switchboard/server-core';
import { testQueuePrefix, testRedisUrl } from '@switchboard/testing';
import { startBacklogReporter } from './backlog-reporter.js';

describe('backlog reporter (CloudWatch EMF)', () => {
  const redis = new Redis(testRedisUrl, { maxRetriesPerRequest: null });
  afterAll(() => redis.quit());

  it('counts chat, summarize and webhook jobs that are waiting, delayed or running', async () => {
    const prefix = testQueuePrefix();
    const chat = new Queue('chat', { connection: redis, prefix });
    const summarize = new Queue('summarize', { connection: redis, prefix });
    const webhooks = new Queue('webhooks', { connection: redis, prefix });
    await chat.add('chat', {});
    await summarize.add('summarize', {}, { delay: 60_000 });
    await webhooks.add('deliver', {}, { priority: 5 });
    // One summarize job taken by a worker: running work still counts (a busy task is not idle).
    await summarize.add('summarize', {});
    const workerConnection = redis.duplicate();
    const worker = new Worker('summarize', null, { connection: workerConnection, prefix, autorun: false });
    const active = await worker.getNextJob('token-1');
    expect(active).toBeDefined();
    const lines: string[] = [];
    const stop = startBacklogReporter({
      queues: [chat, summarize, webhooks],
      governor: new QuotaGovernor(redis, { prefix, windowMs: 60_000, safetyMarginMs: 0 }),
      models: () => [],
      intervalMs: 60_000,
      write: (line) => lines.push(line),
    });
    await new Promise((r) => setTimeout(r, 200));
    stop();
    await worker.close();
    workerConnection.disconnect();
    await Promise.all([chat.close(), summarize.close(), webhooks.close()]);
    expect(JSON.parse(lines[0]!)).toMatchObject({ Service: 'worker', QueueBacklog: 4 });
  });

  it('writes the total and each model as separate EMF documents', async () => {
    const prefix = testQueuePrefix();
    const queue = new Queue('chat', { connection: redis, prefix });
    await queue.addBulk([{ name: 'chat', data: {} }, { name: 'chat', data: {} }]);
    const lines: string[] = [];
    const stop = startBacklogReporter({
      queues: [queue],
      governor: new QuotaGovernor(redis, { prefix, windowMs: 60_000, safetyMarginMs: 0 }),
      models: () => builtInCatalog.slice(0, 2),
      intervalMs: 60_000,
      write: (line) => lines.push(line),
    });
    await new Promise((r) => setTimeout(r, 200));
    stop();
    await queue.close();
    const docs = lines.map((l) => JSON.parse(l));
    expect(docs).toHaveLength(3);
    expect(docs[0]).toMatchObject({ Service: 'worker', QueueBacklog: 2, _aws: { CloudWatchMetrics: [{ Namespace: 'Switchboard', Dimensions: [['Service']] }] } });
    expect(docs[0].Model).toBeUndefined();
    expect(docs[1]).toMatchObject({ Model: builtInCatalog[0]!.id, QueueBacklog: 0, _aws: { CloudWatchMetrics: [{ Dimensions: [['Service', 'Model']] }] } });
  });
});
