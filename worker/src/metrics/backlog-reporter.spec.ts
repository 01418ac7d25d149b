import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { builtInCatalog, QuotaGovernor } from '@switchboard/server-core';
import { testQueuePrefix, testRedisUrl } from '@switchboard/testing';
import { startBacklogReporter } from './backlog-reporter.js';

describe('backlog reporter (CloudWatch EMF)', () => {
  const redis = new Redis(testRedisUrl, { maxRetriesPerRequest: null });
  afterAll(() => redis.quit());

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
