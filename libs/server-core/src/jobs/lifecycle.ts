import type { Queue } from 'bullmq';
import type { ChatDoneEvent, ChatErrorEvent, ModelParams, Usage } from '@switchboard/contracts';
import type { AppConfig } from '../config/config.js';
import { onRedisMessage, type RedisClient as Redis, redisPublish, redisSubscribe } from '../redis.js';
import {
  cancelChannel,
  cancelKey,
  type ChatJobData,
  chatJobOptions,
  chatQueueName,
  type SummarizeJobData,
  summarizeChunkJobOptions,
  summarizeJobOptions,
  type TitleJobData,
  titleJobOptions,
  type WebhookJobData,
  webhookJobId,
} from '../queues/queues.js';
import { appendToJobStream, lastJobStreamEntry } from '../streams/job-stream.js';
import { webhookJobOptions } from '../webhooks/webhook-schedule.js';

/**
 * A job's lifecycle in one place, for the API and the worker alike: how it goes on its queue (and
 * back on it after a Redis loss), how a cancel reaches it, when an attempt is its last, and the
 * final entry of its stream. Postgres stays with each app's repositories; this is the Redis side.
 */

type Adds<T> = Pick<Queue<T>, 'add' | 'addBulk'>;

/** How long a cancel request stays visible to a worker that picks the job up later. */
const cancelKeyTtlSeconds = 24 * 60 * 60;

// ---- Enqueueing --------------------------------------------------------------------------------

/** One chat turn on the chat queue; the BullMQ id is the Postgres job id, so a repeat adds nothing. */
export async function enqueueChat(queue: Adds<ChatJobData>, jobs: ChatJobData | readonly ChatJobData[]): Promise<void> {
  const list = Array.isArray(jobs) ? (jobs as readonly ChatJobData[]) : [jobs as ChatJobData];
  if (list.length === 1) await queue.add(chatQueueName, list[0]!, { jobId: list[0]!.jobId, ...chatJobOptions });
  else if (list.length > 1) await queue.addBulk(list.map((data) => ({ name: chatQueueName, data, opts: { jobId: data.jobId, ...chatJobOptions } })));
}

/**
 * Summarize jobs on their queue (one round trip for many); ids are the Postgres job ids.
 * `priority(i)` (batch items) ranks the i-th job behind every job without one (BullMQ: 1 is the
 * highest priority, jobs without a priority run first).
 */
export async function enqueueSummarize(queue: Adds<SummarizeJobData>, jobs: readonly SummarizeJobData[], priority?: (index: number) => number): Promise<void> {
  if (jobs.length === 0) return;
  await queue.addBulk(
    jobs.map((data, i) => ({ name: 'summarize', data, opts: { jobId: data.jobId, ...summarizeJobOptions, ...(priority ? { priority: priority(i) } : {}) } })),
  );
}

/**
 * The chunk jobs of one map-reduce round, as children of the document's job (a BullMQ flow): ids
 * derived from the job, the level and the index make a repeated step add nothing twice.
 */
export async function enqueueSummarizeChunks<T extends { rootId: string; level: number; index: number }>(
  queue: Pick<Queue, 'addBulk'>,
  parent: { id: string; queue: string },
  chunks: readonly T[],
): Promise<void> {
  await queue.addBulk(
    chunks.map((data) => ({ name: 'chunk', data, opts: { jobId: `${data.rootId}-L${data.level}-${data.index}`, parent, ...summarizeChunkJobOptions } })),
  );
}

/**
 * Queues the callback of a finished job; its id makes a repeat (a retry, the reconciler) a no-op.
 * Retries follow the callback schedule (webhookRetryDelayMs: exponential with jitter, ≈ 24 h).
 */
export async function enqueueCallback(queue: Pick<Queue<WebhookJobData>, 'add'>, config: Pick<AppConfig, 'jobs'>, jobId: string): Promise<void> {
  await queue.add('deliver', { jobId }, webhookJobOptions(config, webhookJobId(jobId)));
}

/** Queues the one callback of a finished batch (`wh-<batchId>`). */
export async function enqueueBatchCallback(queue: Pick<Queue<WebhookJobData>, 'add'>, config: Pick<AppConfig, 'jobs'>, batchId: string): Promise<void> {
  await queue.add('deliver', { batchId }, webhookJobOptions(config, webhookJobId(batchId)));
}

/**
 * A client's redelivery (`POST /v1/jobs/:id/deliveries`): a BullMQ job of its own (the first one may
 * still be kept), the same `X-Switchboard-Delivery` for the receiver.
 */
export async function enqueueRedelivery(queue: Pick<Queue<WebhookJobData>, 'add'>, config: Pick<AppConfig, 'jobs'>, jobId: string, tag: string): Promise<void> {
  await queue.add('deliver', { jobId }, webhookJobOptions(config, `${webhookJobId(jobId)}-r-${tag}`));
}

/** Asks for a model-written title; one titling job per conversation at a time (the id dedupes). */
export async function enqueueTitle(queue: Pick<Queue<TitleJobData>, 'add'>, data: TitleJobData): Promise<void> {
  await queue.add('title', data, { jobId: `title-${data.conversationId}`, ...titleJobOptions });
}

// ---- Payloads rebuilt from Postgres (the reconciler, after Redis lost a job) --------------------

/** What the jobs table (joined to the answer's parent message) keeps of a chat turn. */
export type StoredChatTurn = {
  id: string;
  owner: string;
  modelId: string;
  conversationId: string | null;
  assistantMessageId: string | null;
  userMessageId: string | null;
  input: unknown;
  requestId: string | null;
};

/** The chat job's payload as the API first queued it; undefined when the row lacks a part of it. */
export function chatJobFromRow(row: StoredChatTurn): ChatJobData | undefined {
  if (!row.conversationId || !row.assistantMessageId || !row.userMessageId) return undefined;
  return {
    jobId: row.id,
    owner: row.owner,
    conversationId: row.conversationId,
    userMessageId: row.userMessageId,
    assistantMessageId: row.assistantMessageId,
    modelId: row.modelId,
    params: (row.input as { params?: ModelParams } | null)?.params ?? {},
    requestId: row.requestId ?? '',
    // Budgets and the ledger count by the groups the user had when sending (kept with the params).
    ...((row.input as { groups?: string[] } | null)?.groups ? { groups: (row.input as { groups: string[] }).groups } : {}),
  };
}

/** The summarize job's payload from its row (the input itself stays in Postgres). */
export function summarizeJobFromRow(row: { id: string; owner: string; requestId: string | null }): SummarizeJobData {
  return { jobId: row.id, owner: row.owner, requestId: row.requestId ?? '' };
}

// ---- Attempts ----------------------------------------------------------------------------------

type Attempted = { attemptsMade: number; opts: { attempts?: number } };

/** The number of the attempt now running (1 for the first). */
export const attemptNumber = (job: Pick<Attempted, 'attemptsMade'>) => job.attemptsMade + 1;

/** Whether the running attempt is the job's last: a failure now ends the job instead of retrying it. */
export const isFinalAttempt = (job: Attempted) => attemptNumber(job) >= (job.opts.attempts ?? 1);

// ---- Cancel ------------------------------------------------------------------------------------

/**
 * Records that a cancel was asked (a worker picking the job up later stops before calling Bedrock).
 * The first half of requestCancel, for callers that record the cancel in Postgres in between.
 */
export async function markCancelRequested(redis: Pick<Redis, 'set'>, jobId: string): Promise<void> {
  await redis.set(cancelKey(jobId), '1', 'EX', cancelKeyTtlSeconds);
}

/**
 * Stops a job wherever it is: the worker holding it hears the cancel channel and aborts its call;
 * a job no worker holds yet leaves the queue. `removed` tells which: only then did nothing run.
 */
export async function stopJob(redis: Redis, queue: Pick<Queue, 'getJob'>, queuePrefix: string, jobId: string): Promise<{ removed: boolean }> {
  await announceCancel(redis, queuePrefix, jobId);
  const queued = await queue.getJob(jobId);
  return { removed: queued ? await tryRemove(queued) : false };
}

/** Tells every worker to stop the job if it runs it now (the cancel channel); see stopJob. */
export async function announceCancel(redis: Redis, queuePrefix: string, jobId: string): Promise<void> {
  await redisPublish(redis, cancelChannel(queuePrefix), jobId);
}

/**
 * The cancel of jobs whose rows already ended or are gone (a cancelled batch, a deleted
 * conversation): each gets its cancel flag (a worker that picks it up later skips it) and the
 * cancel channel's message (a worker running it stops). One command each: on a Redis Cluster each
 * flag has its own slot.
 */
export async function signalCancels(redis: Redis, queuePrefix: string, jobIds: readonly string[]): Promise<void> {
  await Promise.all(
    jobIds.map(async (jobId) => {
      await markCancelRequested(redis, jobId);
      await announceCancel(redis, queuePrefix, jobId);
    }),
  );
}

/** markCancelRequested, then stopJob: the whole cancel (TTL key, publish, removal from the queue). */
export async function requestCancel(redis: Redis, queue: Pick<Queue, 'getJob'>, queuePrefix: string, jobId: string): Promise<{ removed: boolean }> {
  await markCancelRequested(redis, jobId);
  return stopJob(redis, queue, queuePrefix, jobId);
}

/** Calls `onCancel` with the job id of every cancel any API node asks for (one subscription per process). */
export async function listenForCancelRequests(subscriber: Redis, queuePrefix: string, onCancel: (jobId: string) => void): Promise<void> {
  const channel = cancelChannel(queuePrefix);
  onRedisMessage(subscriber, (ch: string, jobId: string) => {
    if (ch === channel) onCancel(jobId);
  });
  await redisSubscribe(subscriber, channel);
}

/** Whether a cancel was asked for the job (see markCancelRequested). */
export async function isCancelRequested(redis: Pick<Redis, 'exists'>, jobId: string): Promise<boolean> {
  return (await redis.exists(cancelKey(jobId))) > 0;
}

/** Removes a job no worker holds (with its waiting children); false when a worker has it. */
async function tryRemove(job: { remove(): Promise<void>; getState(): Promise<string> }): Promise<boolean> {
  const state = await job.getState();
  if (!['waiting', 'delayed', 'prioritized', 'waiting-children'].includes(state)) return false;
  try {
    await job.remove();
    return true;
  } catch {
    return false;
  }
}

// ---- The end of a chat job's stream -----------------------------------------------------------

/** How a chat job ended, as its final stream entry (and a socket's done/error event) tells it. */
export type ChatEnding =
  | {
      status: 'completed' | 'cancelled';
      conversationId: string;
      messageId: string;
      stopReason?: string | null;
      usage?: Usage | null;
      text: string;
      reasoning?: string | null;
      cost?: number | null;
    }
  | { status: 'failed'; error: { code: string; message: string }; retryable: boolean };

/** The `chat:done` event of an answer that ended (completed or cancelled), without its jobId. */
export function doneEventOf(ending: Extract<ChatEnding, { status: 'completed' | 'cancelled' }>): Omit<ChatDoneEvent, 'jobId'> {
  return {
    conversationId: ending.conversationId,
    messageId: ending.messageId,
    stopReason: ending.stopReason ?? (ending.status === 'cancelled' ? 'cancelled' : 'end_turn'),
    usage: ending.usage ?? { inputTokens: 0, outputTokens: 0 },
    text: ending.text,
    ...(ending.reasoning ? { reasoning: ending.reasoning } : {}),
    ...(ending.cost != null ? { cost: ending.cost } : {}),
  };
}

/** The `chat:error` event of an answer that failed, without its jobId. */
export function errorEventOf(ending: Extract<ChatEnding, { status: 'failed' }>): Omit<ChatErrorEvent, 'jobId'> {
  return { code: ending.error.code, message: ending.error.message, retryable: ending.retryable };
}

/** The ending of a chat whose own never got written (its last attempt failed on Postgres or Redis); BullMQ keeps the real error. */
export const lostEnding = { code: 'internal', message: 'Processing failed; please try again' } as const;
/** A job BullMQ failed because workers died holding it (JOBS_MAX_STALLED times): not retried again. */
export const poisonEnding = { code: 'poison', message: 'The job crashed workers repeatedly and will not be retried' } as const;

/**
 * Writes the final entry of a chat job's stream (done, or error), which every socket following the
 * job turns into its last event. Call it after Postgres recorded the ending, except when Postgres
 * cannot be reached (a chat's last attempt failed): the reconciler records it later. With `seq`
 * (the job's own ending) it is written there; without, after the last entry, unless the stream
 * already ended (false then).
 */
export async function endJobStream(redis: Redis, jobId: string, ending: ChatEnding, seq?: number): Promise<boolean> {
  let next = seq;
  if (next === undefined) {
    const last = await lastJobStreamEntry(redis, jobId);
    if (last && last.kind !== 'delta') return false;
    next = (last?.seq ?? 0) + 1;
  }
  await appendToJobStream(
    redis,
    jobId,
    ending.status === 'failed' ? { kind: 'error', seq: next, event: errorEventOf(ending) } : { kind: 'done', seq: next, event: doneEventOf(ending) },
  );
  return true;
}
