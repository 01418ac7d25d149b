import { randomUUID } from 'node:crypto';
import type { Queue } from 'bullmq';
import { and, eq, inArray, isNotNull, lt } from 'drizzle-orm';
import type { Redis } from 'ioredis';
import type { ModelParams } from '@switchboard/contracts';
import {
  type AppConfig,
  type ChatJobData,
  chatJobOptions,
  chatQueueName,
  type Db,
  jobs,
  messages,
  type Logger,
  type SummarizeJobData,
  summarizeJobOptions,
  summarizeQueueName,
  type WebhookJobData,
  webhookJobId,
  webhooksQueueName,
} from '@switchboard/server-core';
import { enqueueCallback } from '../webhooks/enqueue-callback.js';

const batchSize = 1000;

export type Reconciler = { runOnce(): Promise<{ requeued: number; chats: number; callbacks: number }>; stop(): void };

/**
 * Postgres is the record, Redis only carries the work: every few seconds one worker (a Redis lock
 * with a TTL picks it) re-enqueues accepted summarize and chat jobs and owed callbacks that Redis no
 * longer has, e.g. after a failover or a flush. Same job ids, so a job Redis still has is never doubled.
 */
export function startReconciler(deps: {
  config: AppConfig;
  redis: Redis;
  db: Db;
  summarize: Queue<SummarizeJobData>;
  chat: Queue<ChatJobData>;
  webhooks: Queue<WebhookJobData>;
  logger: Logger;
}): Reconciler {
  const { config, redis, db, logger } = deps;
  const prefix = config.queuePrefix;
  const lockKey = `${prefix}:reconciler:lock`;
  const me = randomUUID();
  const { reconcileIntervalMs: interval, reconcileMinAgeMs: minAge } = config.jobs;

  const runOnce = async () => {
    const cutoff = new Date(Date.now() - minAge);
    const open = await db
      .select({ id: jobs.id, owner: jobs.owner, requestId: jobs.requestId })
      .from(jobs)
      .where(and(eq(jobs.type, 'summarize'), inArray(jobs.status, ['queued', 'active']), lt(jobs.createdAt, cutoff)))
      .limit(batchSize);
    const missing = await missingFromRedis(redis, open.map((j) => `${prefix}:${summarizeQueueName}:${j.id}`));
    const lost = open.filter((_, i) => missing[i]);
    if (lost.length > 0) {
      await deps.summarize.addBulk(
        lost.map((j) => ({
          name: 'summarize',
          data: { jobId: j.id, owner: j.owner, requestId: j.requestId ?? '' },
          opts: { jobId: j.id, ...summarizeJobOptions },
        })),
      );
      logger.warn({ count: lost.length }, 'reconciler: re-enqueued accepted jobs missing from Redis');
    }
    const chats = await requeueLostChats(cutoff);
    const owed = await db
      .select({ id: jobs.id })
      .from(jobs)
      .where(and(eq(jobs.callbackStatus, 'pending'), isNotNull(jobs.finishedAt), lt(jobs.finishedAt, cutoff)))
      .limit(batchSize);
    const owedMissing = await missingFromRedis(redis, owed.map((j) => `${prefix}:${webhooksQueueName}:${webhookJobId(j.id)}`));
    const lostCallbacks = owed.filter((_, i) => owedMissing[i]);
    for (const j of lostCallbacks) await enqueueCallback(deps.webhooks, config, j.id);
    if (lostCallbacks.length > 0) logger.warn({ count: lostCallbacks.length }, 'reconciler: re-enqueued owed callbacks');
    return { requeued: lost.length, chats, callbacks: lostCallbacks.length };
  };

  /** Accepted chat turns whose job Redis lost: the same job again, its data rebuilt from Postgres. */
  const requeueLostChats = async (cutoff: Date): Promise<number> => {
    const open = await db
      .select({
        id: jobs.id,
        owner: jobs.owner,
        modelId: jobs.modelId,
        conversationId: jobs.conversationId,
        assistantMessageId: jobs.messageId,
        userMessageId: messages.parentId,
        input: jobs.input,
        requestId: jobs.requestId,
      })
      .from(jobs)
      .innerJoin(messages, eq(messages.id, jobs.messageId))
      .where(and(eq(jobs.type, 'chat'), inArray(jobs.status, ['queued', 'active']), lt(jobs.createdAt, cutoff)))
      .limit(batchSize);
    const missing = await missingFromRedis(redis, open.map((j) => `${prefix}:${chatQueueName}:${j.id}`));
    const lost = open.filter((j, i) => missing[i] && j.conversationId && j.assistantMessageId && j.userMessageId);
    if (lost.length === 0) return 0;
    await deps.chat.addBulk(
      lost.map((j) => ({
        name: 'chat',
        data: {
          jobId: j.id,
          owner: j.owner,
          conversationId: j.conversationId!,
          userMessageId: j.userMessageId!,
          assistantMessageId: j.assistantMessageId!,
          modelId: j.modelId,
          params: (j.input as { params?: ModelParams } | null)?.params ?? {},
          requestId: j.requestId ?? '',
        },
        opts: { jobId: j.id, ...chatJobOptions },
      })),
    );
    logger.warn({ count: lost.length }, 'reconciler: re-enqueued accepted chats missing from Redis');
    return lost.length;
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

async function missingFromRedis(redis: Redis, keys: string[]): Promise<boolean[]> {
  if (keys.length === 0) return [];
  const pipeline = redis.pipeline();
  for (const key of keys) pipeline.exists(key);
  const results = (await pipeline.exec()) ?? [];
  return results.map(([err, n]) => !err && n === 0);
}

