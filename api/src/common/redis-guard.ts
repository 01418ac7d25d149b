import type { Redis } from 'ioredis';

/** Redis is down or not answering: the request gets 503 `unavailable` (see isDependencyOutage). */
export class RedisUnavailableError extends Error {
  override readonly name = 'RedisUnavailableError';
}

/**
 * Runs a Redis operation on the request path only while the connection is up, and gives up after
 * `timeoutMs`. Without this, ioredis queues commands through its reconnect cycles and a request
 * waits ~20 s to learn that Redis is gone. A command that still lands after the timeout is
 * harmless: the caller has already ended or kept the work in Postgres.
 */
export async function whenRedisUp<T>(redis: Redis, timeoutMs: number, op: () => Promise<T>): Promise<T> {
  if (redis.status !== 'ready') throw new RedisUnavailableError(`Redis connection is ${redis.status}`);
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      op(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new RedisUnavailableError(`Redis did not answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
