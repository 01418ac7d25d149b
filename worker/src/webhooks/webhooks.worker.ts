import { Worker } from 'bullmq';
import type { RedisClient as Redis } from '@switchboard/server-core';
import { type AppConfig, type Logger, webhookRetryDelayMs, webhooksQueueName } from '@switchboard/server-core';
import { jobLockOptions } from '../lifecycle/job-locks.js';
import { withScrubbedErrors } from '../lifecycle/scrubbed-errors.js';
import { createWebhookProcessor } from './webhook.processor.js';
import type { WebhookDeliveriesRepository } from './webhook-deliveries.repository.js';

/** Delivers job and batch callbacks, many at a time (they mostly wait on the receiver). Built with autorun off. */
export function createWebhooksWorker(deps: { config: AppConfig; blocking: Redis; repository: WebhookDeliveriesRepository; logger: Logger }): Worker {
  const { config, logger } = deps;
  const worker = new Worker(webhooksQueueName, withScrubbedErrors(createWebhookProcessor({ config, repository: deps.repository, logger })), {
    connection: deps.blocking,
    prefix: config.queuePrefix,
    autorun: false,
    ...jobLockOptions(config),
    concurrency: 32,
    // Callbacks retry on their own schedule: exponential up to WEBHOOK_BACKOFF_MAX_MS, ±20 % jitter (≈ 24 h by default).
    settings: { backoffStrategy: (attemptsMade: number) => webhookRetryDelayMs(attemptsMade, config.jobs.webhooks) },
  });
  worker.on('error', (err) => logger.error({ err }, 'webhooks worker error'));
  return worker;
}
