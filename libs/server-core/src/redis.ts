import { Redis, type RedisOptions } from 'ioredis';

/**
 * One connection per role per process (commands, blocking worker, subscriber, streams). BullMQ
 * needs maxRetriesPerRequest: null on connections it blocks on. `streams` carries the answers'
 * appends, each batch its own EVALSHA written at once: no auto-pipelining, which keeps one pipeline
 * in flight per connection, so under load every append waited for the previous batch's round trip
 * (issue 19: most of the per-token tail).
 * `onLost` hears once per outage (ioredis retries on its own and would report every attempt).
 */
export function createRedis(
  url: string,
  role: RedisRole,
  onLost: (err: Error, role: RedisRole) => void,
  extra: RedisOptions = {},
): Redis {
  const redis = new Redis(url, {
    connectionName: `switchboard:${role}`,
    maxRetriesPerRequest: role === 'commands' || role === 'streams' ? 3 : null,
    enableReadyCheck: true,
    ...extra,
  });
  let lost = false;
  redis.on('error', (err: Error) => {
    if (lost) return;
    lost = true;
    onLost(err, role);
  });
  redis.on('ready', () => (lost = false));
  return redis;
}

export type RedisRole = 'commands' | 'blocking' | 'subscriber' | 'streams';

/** Resolves when Redis answers PING, or rejects with a clear message. */
export async function assertRedisReachable(url: string, timeoutMs = 3000): Promise<void> {
  const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, connectTimeout: timeoutMs, retryStrategy: () => null });
  probe.on('error', () => undefined);
  try {
    await probe.connect();
    await probe.ping();
  } catch (err) {
    throw new Error(`Redis is not reachable at ${redactUrl(url)} (${(err as Error).message}). Start Redis or set REDIS_URL.`);
  } finally {
    probe.disconnect();
  }
}

export function redactUrl(url: string): string {
  return url.replace(/\/\/([^@/]*)@/, '//***@');
}
