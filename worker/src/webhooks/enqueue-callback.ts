import type { Queue } from 'bullmq';
import { type AppConfig, enqueueWebhook, type WebhookJobData } from '@switchboard/server-core';

/** Queues the callback of a finished job; its id makes a repeat (a retry, the reconciler) a no-op. */
export async function enqueueCallback(queue: Queue<WebhookJobData>, config: AppConfig, jobId: string): Promise<void> {
  await enqueueWebhook(queue, config, { jobId });
}

/** Queues the one callback of a finished batch. */
export async function enqueueBatchCallback(queue: Queue<WebhookJobData>, config: AppConfig, batchId: string): Promise<void> {
  await enqueueWebhook(queue, config, { batchId });
}
