import type { BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime';
import { type Queue, Worker } from 'bullmq';
import type { RedisClient as Redis } from '@switchboard/server-core';
import type { ModelEntry } from '@switchboard/contracts';
import {
  type AppConfig,
  cancelChannel,
  type ChatJobData,
  type Database,
  type Logger,
  onRedisMessage,
  producerQueue,
  type SummarizeJobData,
  summarizeQueueName,
  type WebhookJobData,
  webhooksQueueName,
} from '@switchboard/server-core';
import { DocumentExtractor } from '../documents/document-extractor.js';
import { type Reconciler, startReconciler } from '../reconciler/reconciler.js';
import { createWebhookProcessor } from '../webhooks/webhook.processor.js';
import { WebhookDeliveriesRepository } from '../webhooks/webhook-deliveries.repository.js';
import { jobLockOptions } from '../lifecycle/job-locks.js';
import type { TaskProtection } from '../lifecycle/task-protection.js';
import type { BatchQuota } from './model-call.js';
import { createSummarizeProcessor } from './summarize.processor.js';
import { SummarizeJobsRepository } from './summarize-jobs.repository.js';

export type BatchWorkers = {
  /** Pass to listenForCancels with the other workers; chunk jobs are cancelled here. */
  summarize: Worker;
  webhooks: Worker;
  reconciler: Reconciler;
  /** The queues these workers consume (the backlog metric counts them). */
  queues: Queue[];
  run(): Promise<void>;
  close(): Promise<void>;
};

/**
 * Batch jobs in this process: the summarize worker (whole documents and their chunks), callback
 * deliveries and the reconciler. Built with autorun off; run() starts them.
 */
export function createBatchWorkers(deps: {
  config: AppConfig;
  redis: Redis;
  blocking: Redis;
  subscriber: Redis;
  bedrock: BedrockRuntimeClient;
  database: Database;
  models: () => readonly ModelEntry[];
  logger: Logger;
  /** The quota governor shared with chat; summarize jobs join its `batch` lane. */
  quota?: BatchQuota;
  /** For the reconciler: chats Redis lost go back on it. */
  chatQueue: Queue<ChatJobData>;
  /** Counts running jobs for ECS scale-in protection. */
  protection?: TaskProtection;
}): BatchWorkers {
  const { config, redis, logger } = deps;
  const connection = { connection: deps.blocking, prefix: config.queuePrefix, autorun: false, ...jobLockOptions(config) };
  const track = <T>(work: () => Promise<T>) => (deps.protection ? deps.protection.track(work) : work());
  const summarizeQueue = producerQueue<SummarizeJobData>(summarizeQueueName, redis, config.queuePrefix);
  const webhooksQueue = producerQueue<WebhookJobData>(webhooksQueueName, redis, config.queuePrefix);
  const activeChunks = new Map<string, Set<string>>();
  // The governor wakes parked batch jobs on this queue when quota frees early.
  if (deps.quota) deps.quota.laneQueues.batch = summarizeQueue;

  const processSummarize = createSummarizeProcessor({
      config,
      redis,
      bedrock: deps.bedrock,
      repository: new SummarizeJobsRepository(deps.database.db),
      models: deps.models,
      logger,
      queue: summarizeQueue,
      webhooks: webhooksQueue,
      activeChunks,
      quota: deps.quota,
      extractor: new DocumentExtractor(config.documents),
    });
  const summarize = new Worker(
    summarizeQueueName,
    (job, token, signal) => track(() => processSummarize(job, token, signal)),
    // A job whose worker died holding it more than maxStalled times is failed for good (poison).
    { ...connection, concurrency: config.workerConcurrency, maxStalledCount: config.jobs.maxStalled },
  );
  summarize.on('error', (err) => logger.error({ err }, 'summarize worker error'));
  const webhooks = new Worker(
    webhooksQueueName,
    createWebhookProcessor({ config, repository: new WebhookDeliveriesRepository(deps.database.db, redis, config.queuePrefix), logger }),
    { ...connection, concurrency: 32 },
  );
  webhooks.on('error', (err) => logger.error({ err }, 'webhooks worker error'));

  // A cancel names the document's job; its running chunks are other BullMQ jobs, stopped here.
  const channel = cancelChannel(config.queuePrefix);
  onRedisMessage(deps.subscriber, (ch: string, jobId: string) => {
    if (ch !== channel) return;
    for (const chunkId of activeChunks.get(jobId) ?? []) summarize.cancelJob(chunkId, 'cancelled by the client');
  });

  const reconciler = startReconciler({
    config,
    redis,
    db: deps.database.db,
    summarize: summarizeQueue,
    chat: deps.chatQueue,
    webhooks: webhooksQueue,
    logger,
  });
  return {
    summarize,
    webhooks,
    reconciler,
    queues: [summarizeQueue, webhooksQueue],
    run: async () => {
      void summarize.run();
      void webhooks.run();
      await Promise.all([summarize.waitUntilReady(), webhooks.waitUntilReady()]);
    },
    close: async () => {
      reconciler.stop();
      await Promise.all([summarize.close(), webhooks.close()]);
      await Promise.all([summarizeQueue.close(), webhooksQueue.close()]);
    },
  };
}
