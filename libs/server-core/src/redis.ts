import { Redis, type RedisOptions } from 'ioredis';

/**
 * One connection per role per process (commands, blocking worker, subscriber). BullMQ needs
 * maxRetriesPerRequest: null on connections it blocks on.
 */
export function createRedis(url: string, role: 'commands' | 'blocking' | 'subscriber', extra: RedisOptions = {}): Redis {
  return new Redis(url, {
    connectionName: `switchboard:${role}`,
    maxRetriesPerRequest: role === 'commands' ? 3 : null,
    enableReadyCheck: true,
    ...extra,
  });
}

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
