import { randomUUID } from 'node:crypto';
import type { Queue } from 'bullmq';
import type { RedisClient as Redis } from '@switchboard/server-core';
import {
  type AppConfig,
  type ChatQueues,
  chatJobFromRow,
  chatQueueName,
  endJobStream,
  enqueueBatchCallback,
  enqueueCallback,
  enqueueChat,
  enqueueSummarize,
  type Logger,
  lostEnding,
  poisonEnding,
  type SummarizeJobData,
  summarizeJobFromRow,
  summarizeQueueName,
  type WebhookJobData,
  webhookJobId,
  webhooksQueueName,
} from '@switchboard/server-core';
import type { ChatTurnsRepository } from '../chat/chat-turns.repository.js';
import type { SummarizeJobsRepository } from '../summarize/summarize-jobs.repository.js';
import type { WebhookDeliveriesRepository } from '../webhooks/webhook-deliveries.repository.js';

const batchSize = 1000;

export type Reconciler = {
  runOnce(): Promise<{ requeued: number; chats: number; ended: number; callbacks: number; purged: number }>;
  stop(): void;
};

/** Where a job Postgres still calls open stands in its BullMQ queue. */
type QueueState = 'missing' | 'failed' | 'present';

function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) groups.set(key(item), [...(groups.get(key(item)) ?? []), item]);
  return groups;
}

/** The ending of a job BullMQ failed for good: poison when it failed for stalling. */
async function endingOf(queue: { getJob(id: string): Promise<{ failedReason?: string } | undefined> }, id: string): Promise<{ code: string; message: string }> {
  const job = await queue.getJob(id).catch(() => undefined);
  return job?.failedReason && /stalled/i.test(job.failedReason) ? poisonEnding : lostEnding;
}

/**
 * Postgres is the record, Redis only carries the work: every few seconds one worker (a Redis lock
 * with a TTL picks it) looks at the summarize and chat jobs Postgres calls open. Those Redis no
 * longer has (a failover, a flush) go back on their queue under the same id, so a job Redis still
 * has is never doubled. Those BullMQ failed for good but whose ending never reached Postgres are
 * ended as failed, so no client waits on them forever. Owed callbacks Redis lost are queued again.
 */
export function startReconciler(deps: {
  config: AppConfig;
  redis: Redis;
  repositories: { summarizeJobs: SummarizeJobsRepository; chatTurns: ChatTurnsRepository; deliveries: WebhookDeliveriesRepository };
  summarize: Queue<SummarizeJobData>;
  chat: ChatQueues;
  webhooks: Queue<WebhookJobData>;
  logger: Logger;
}): Reconciler {
  const { config, redis, logger } = deps;
  const { summarizeJobs, chatTurns, deliveries } = deps.repositories;
  const prefix = config.queuePrefix;
  const lockKey = `${prefix}:reconciler:lock`;
  const me = randomUUID();
  const { reconcileIntervalMs: interval, reconcileMinAgeMs: minAge } = config.jobs;

  const reconcileSummaries = async (cutoff: Date) => {
    const rows = await summarizeJobs.openBefore(cutoff, batchSize);
    const states = await queueStates(redis, `${prefix}:${summarizeQueueName}`, rows.map((j) => j.id));
    const lost = rows.filter((_, i) => states[i] === 'missing');
    if (lost.length > 0) {
      await enqueueSummarize(deps.summarize, lost.map(summarizeJobFromRow));
      logger.warn({ count: lost.length }, 'reconciler: re-enqueued accepted jobs missing from Redis');
    }
    const failed = rows.filter((_, i) => states[i] === 'failed');
    for (const j of failed) await summarizeJobs.finish(j.id, { status: 'failed', error: await endingOf(deps.summarize, j.id) });
    if (failed.length > 0) logger.warn({ jobIds: failed.map((j) => j.id) }, 'reconciler: ended jobs that failed without recording it');
    return { requeued: lost.length, ended: failed.length };
  };

  /** Chat turns: a lost one is rebuilt from Postgres (the job row keeps the turn's parameters). */
  const reconcileChats = async (cutoff: Date) => {
    const rows = await chatTurns.openBefore(cutoff, batchSize);
    // On a cluster each model has its own chat queue (one slot each): one pipeline per queue.
    const byQueue = groupBy(rows, (j) => deps.chat.prefixFor(j.modelId));
    const states = new Map<string, QueueState>();
    for (const [queuePrefix, group] of byQueue) {
      const found = await queueStates(redis, `${queuePrefix}:${chatQueueName}`, group.map((j) => j.id));
      group.forEach((j, i) => states.set(j.id, found[i]!));
    }
    const lost = rows.flatMap((j) => (states.get(j.id) === 'missing' ? (chatJobFromRow(j) ?? []) : []));
    for (const [modelId, group] of groupBy(lost, (j) => j.modelId)) await enqueueChat(deps.chat.for(modelId), group);
    if (lost.length > 0) logger.warn({ count: lost.length }, 'reconciler: re-enqueued accepted chats missing from Redis');
    const failed = rows.filter((j) => states.get(j.id) === 'failed');
    for (const j of failed) {
      const ending = await endingOf(deps.chat.for(j.modelId), j.id);
      await chatTurns.finish(j.id, j.assistantMessageId!, { status: 'failed', text: '', stopReason: null, usage: null, error: ending });
      // Sockets still watching the answer hear that it ended (unless the worker told them already).
      await endJobStream(redis, j.id, { status: 'failed', error: ending, retryable: ending !== poisonEnding });
    }
    if (failed.length > 0) logger.warn({ jobIds: failed.map((j) => j.id) }, 'reconciler: ended chats that failed without recording it');
    return { requeued: lost.length, ended: failed.length };
  };

  const runOnce = async () => {
    const cutoff = new Date(Date.now() - minAge);
    const summaries = await reconcileSummaries(cutoff);
    const chats = await reconcileChats(cutoff);
    const owed = await deliveries.owedBefore(cutoff, batchSize);
    const owedStates = await queueStates(redis, `${prefix}:${webhooksQueueName}`, owed.map((j) => webhookJobId(j.id)));
    const lostCallbacks = owed.filter((_, i) => owedStates[i] === 'missing');
    for (const j of lostCallbacks) await enqueueCallback(deps.webhooks, config, j.id);
    if (lostCallbacks.length > 0) logger.warn({ count: lostCallbacks.length }, 'reconciler: re-enqueued owed callbacks');
    const batchCallbacks = await reconcileBatches(cutoff);
    const purged = await purgeExpired();
    return { requeued: summaries.requeued, chats: chats.requeued, ended: summaries.ended + chats.ended, callbacks: lostCallbacks.length + batchCallbacks, purged };
  };

  /** Batches whose last item's ending did not end the batch (a crash between), and batch callbacks Redis lost. */
  const reconcileBatches = async (cutoff: Date) => {
    for (const b of await summarizeJobs.openBatchesBefore(cutoff, batchSize)) {
      if (await summarizeJobs.finishBatchIfDone(b.id)) await enqueueBatchCallback(deps.webhooks, config, b.id);
    }
    const owed = await deliveries.owedBatchesBefore(cutoff, batchSize);
    const states = await queueStates(redis, `${prefix}:${webhooksQueueName}`, owed.map((b) => webhookJobId(b.id)));
    const lost = owed.filter((_, i) => states[i] === 'missing');
    for (const b of lost) await enqueueBatchCallback(deps.webhooks, config, b.id);
    if (lost.length > 0) logger.warn({ count: lost.length }, 'reconciler: re-enqueued owed batch callbacks');
    return lost.length;
  };

  /**
   * Retention: erases the text and documents of jobs that ended more than JOBS_INPUT_RETENTION_MS
   * ago, and the results of those that ended more than JOBS_RESULT_RETENTION_MS ago (name, metadata,
   * status and usage stay). At most every JOBS_PURGE_INTERVAL_MS, up to `batchSize` jobs of each a round.
   */
  let lastPurge = 0;
  const purgeExpired = async (): Promise<number> => {
    const { inputMs, resultMs, purgeIntervalMs } = config.jobs.retention;
    if (Date.now() - lastPurge < purgeIntervalMs) return 0;
    lastPurge = Date.now();
    const inputs = inputMs > 0 ? await summarizeJobs.purgeInputsEndedBefore(new Date(Date.now() - inputMs), batchSize) : 0;
    const results = resultMs > 0 ? await summarizeJobs.purgeResultsEndedBefore(new Date(Date.now() - resultMs), batchSize) : 0;
    if (inputs + results > 0) logger.info({ inputs, results }, 'retention: erased inputs and results past their retention');
    return inputs + results;
  };

  const tick = async () => {
    // Whoever takes the lock runs this round; the TTL frees it if that worker dies.
    const leader = await redis.set(lockKey, me, 'PX', Math.max(100, interval - 50), 'NX');
    if (leader !== 'OK') return;
    await runOnce();
  };
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    tick()
      .catch((err) => logger.warn({ err: (err as Error).message }, 'reconciler round failed'))
      .finally(() => (running = false));
  }, interval);
  timer.unref();
  return { runOnce, stop: () => clearInterval(timer) };
}

/**
 * BullMQ keeps a job as the hash `<queue>:<id>` and lists the ones that failed for good (attempts
 * spent) in `<queue>:failed`; one pipelined round trip for all of them.
 */
async function queueStates(redis: Redis, queueKey: string, ids: string[]): Promise<QueueState[]> {
  if (ids.length === 0) return [];
  const pipeline = redis.pipeline();
  for (const id of ids) pipeline.exists(`${queueKey}:${id}`).zscore(`${queueKey}:failed`, id);
  const results = (await pipeline.exec()) ?? [];
  return ids.map((_, i) => {
    const [existsErr, exists] = results[2 * i] ?? [null, 1];
    const [, failedScore] = results[2 * i + 1] ?? [null, null];
    if (existsErr) return 'present'; // not known: leave it alone this round
    if (exists === 0) return 'missing';
    return failedScore != null ? 'failed' : 'present';
  });
}
