import type { Worker } from 'bullmq';
import type { RedisClient as Redis } from '@switchboard/server-core';
import { cancelChannel, onRedisMessage, redisSubscribe } from '@switchboard/server-core';

/**
 * Any API node may receive a cancel; the worker that holds the job hears it here and aborts the
 * processor's signal, which stops the Bedrock stream. One subscription per worker process.
 */
export async function listenForCancels(subscriber: Redis, queuePrefix: string, workers: Worker[]): Promise<void> {
  const channel = cancelChannel(queuePrefix);
  onRedisMessage(subscriber, (ch: string, jobId: string) => {
    if (ch !== channel) return;
    for (const worker of workers) worker.cancelJob(jobId, 'cancelled by the user');
  });
  await redisSubscribe(subscriber, channel);
}
