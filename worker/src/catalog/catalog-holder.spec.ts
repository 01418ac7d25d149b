import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { builtInCatalog, controlChannel, createLogger } from '@switchboard/server-core';
import { testQueuePrefix, testRedisUrl } from '@switchboard/testing';
import { CatalogHolder } from './catalog-holder.js';

describe('CatalogHolder', () => {
  const redis = new Redis(testRedisUrl);
  const subscriber = new Redis(testRedisUrl);
  afterAll(async () => {
    await redis.quit();
    await subscriber.quit();
  });

  it('reloads quotas without a restart when the control channel says so, and keeps them on a bad file', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'sb-holder-')), 'models.json');
    writeFileSync(file, JSON.stringify(builtInCatalog));
    const prefix = testQueuePrefix();
    const holder = new CatalogHolder(file, createLogger('test', 'silent'));
    await holder.listen(subscriber, prefix);
    const announce = () => redis.publish(controlChannel(prefix), JSON.stringify({ type: 'reload-catalog' }));
    const settle = () => new Promise((r) => setTimeout(r, 100));

    writeFileSync(file, JSON.stringify([{ ...builtInCatalog[0], quota: { requestsPerMinute: 3, tokensPerMinute: 300 } }]));
    await announce();
    await settle();
    expect(holder.list().map((m) => m.quota.requestsPerMinute)).toEqual([3]);

    writeFileSync(file, 'not json');
    await announce();
    await settle();
    expect(holder.list()).toHaveLength(1);

    writeFileSync(file, JSON.stringify(builtInCatalog));
    process.emit('SIGHUP', 'SIGHUP');
    expect(holder.list()).toHaveLength(builtInCatalog.length);
    holder.stop();
  });
});
