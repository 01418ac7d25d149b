import type { BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime';
import { type Job, type Queue, Worker } from 'bullmq';
import type { RedisClient as Redis } from '@switchboard/server-core';
import type { ModelEntry } from '@switchboard/contracts';
import { type AppConfig, type Logger, type SpendRepository, type SummarizeJobData, summarizeQueueName, type WebhookJobData } from '@switchboard/server-core';
import { DocumentExtractor } from '../documents/document-extractor.js';
import { jobLockOptions } from '../lifecycle/job-locks.js';
import { withScrubbedErrors } from '../lifecycle/scrubbed-errors.js';
import type { TaskProtection } from '../lifecycle/task-protection.js';
import type { BatchQuota } from './model-call.js';
import { createSummarizeProcessor } from './summarize.processor.js';
import type { SummarizeJobsRepository } from './summarize-jobs.repository.js';

export type SummarizeWorker = {
  worker: Worker;
  /** Stops the job wherever it runs here: the document's own job, and its running chunk jobs. */
  cancel(jobId: string): void;
};

/**
 * The summarize worker: whole documents and their chunks (child jobs on the same queue). Built
 * with autorun off; the composition root (bootstrap.ts) runs it next to the other workers.
 */
export function createSummarizeWorker(deps: {
  config: AppConfig;
  redis: Redis;
  /** The worker's blocking connection. */
  blocking: Redis;
  bedrock: BedrockRuntimeClient;
  repository: SummarizeJobsRepository;
  models: () => readonly ModelEntry[];
  logger: Logger;
  /** The summarize queue itself (chunks are added to it) and the callbacks queue. */
  queue: Queue<SummarizeJobData>;
  webhooks: Queue<WebhookJobData>;
  /** The quota governor shared with chat; summarize jobs join its `batch` lane. */
  quota?: BatchQuota;
  /** Counts running jobs for ECS scale-in protection. */
  protection?: TaskProtection;
  /** Usage ledger and audit of the jobs' Bedrock calls. */
  spend?: SpendRepository;
}): SummarizeWorker {
  const { config, logger } = deps;
  const activeChunks = new Map<string, Set<string>>();
  const processSummarize = createSummarizeProcessor({
    config,
    redis: deps.redis,
    bedrock: deps.bedrock,
    repository: deps.repository,
    models: deps.models,
    logger,
    queue: deps.queue,
    webhooks: deps.webhooks,
    activeChunks,
    quota: deps.quota,
    extractor: new DocumentExtractor(config.documents),
    ...(deps.spend ? { spend: deps.spend } : {}),
  });
  const track = <T>(work: () => Promise<T>) => (deps.protection ? deps.protection.track(work) : work());
  const worker = new Worker(
    summarizeQueueName,
    withScrubbedErrors((job: Job, token, signal) => track(() => processSummarize(job, token, signal))),
    // A job whose worker died holding it more than maxStalled times is failed for good (poison).
    {
      connection: deps.blocking,
      prefix: config.queuePrefix,
      autorun: false,
      ...jobLockOptions(config),
      concurrency: config.workerConcurrency,
      maxStalledCount: config.jobs.maxStalled,
    },
  );
  worker.on('error', (err) => logger.error({ err }, 'summarize worker error'));
  return {
    worker,
    cancel: (jobId) => {
      worker.cancelJob(jobId, 'cancelled by the user');
      // A cancel names the document's job; its running chunks are other BullMQ jobs.
      for (const chunkId of activeChunks.get(jobId) ?? []) worker.cancelJob(chunkId, 'cancelled by the client');
    },
  };
}
