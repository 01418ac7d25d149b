import type { RedisClient as Redis } from '@switchboard/server-core';

/** Redis is down or not answering: the request gets 503 `unavailable` (see isDependencyOutage). */
export class RedisUnavailableError extends Error {
  override readonly name = 'RedisUnavailableError';
}

/** After a timeout, guarded calls on that connection fail at once for this long (one request pays the wait, not every step of it). */
const suspectForMs = 5000;
const suspectUntil = new WeakMap<Redis, number>();

/**
 * Runs a Redis operation on the request path only while the connection is up, and gives up after
 * `timeoutMs`. Without this, ioredis queues commands through its reconnect cycles and a request
 * waits ~20 s to learn that Redis is gone. A connection that just timed out is treated as down
 * for a few seconds, so a request with several guarded steps (limits, then enqueue) waits once.
 * A command that still lands after the timeout is harmless: the caller has already ended or kept
 * the work in Postgres.
 */
export async function whenRedisUp<T>(redis: Redis, timeoutMs: number, op: () => Promise<T>): Promise<T> {
  if (redis.status !== 'ready') throw new RedisUnavailableError(`Redis connection is ${redis.status}`);
  if ((suspectUntil.get(redis) ?? 0) > Date.now()) throw new RedisUnavailableError('Redis did not answer a moment ago');
  let timer: NodeJS.Timeout | undefined;
  try {
    const result = await Promise.race([
      op(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          suspectUntil.set(redis, Date.now() + suspectForMs);
          reject(new RedisUnavailableError(`Redis did not answer within ${timeoutMs} ms`));
        }, timeoutMs);
      }),
    ]);
    suspectUntil.delete(redis);
    return result;
  } finally {
    clearTimeout(timer);
  }
}
