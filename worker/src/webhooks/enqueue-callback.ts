import type { Queue } from 'bullmq';
import { type AppConfig, type WebhookJobData, webhookJobId } from '@switchboard/server-core';

/** Queues the callback of a finished job; its id makes a repeat (a retry, the reconciler) a no-op. */
export async function enqueueCallback(queue: Queue<WebhookJobData>, config: AppConfig, jobId: string): Promise<void> {
  const { attempts, backoffMs } = config.jobs.webhooks;
  await queue.add(
    'deliver',
    { jobId },
    {
      jobId: webhookJobId(jobId),
      attempts,
      backoff: { type: 'exponential', delay: backoffMs },
      removeOnComplete: { age: 3600 },
      removeOnFail: { age: 7 * 24 * 3600 },
    },
  );
}
