import type { RedisClient as Redis } from '@switchboard/server-core';
import { listenForCancelRequests } from '@switchboard/server-core';

/** Something in this process that can stop a job it runs (a BullMQ worker, or the summarize worker with its chunks). */
export type Cancellable = { cancel(jobId: string): void };

/**
 * Any API node may receive a cancel; the worker that holds the job hears it here and aborts the
 * processor's signal, which stops the Bedrock stream. One subscription per worker process.
 */
export async function listenForCancels(subscriber: Redis, queuePrefix: string, targets: Cancellable[]): Promise<void> {
  await listenForCancelRequests(subscriber, queuePrefix, (jobId) => {
    for (const target of targets) target.cancel(jobId);
  });
}
