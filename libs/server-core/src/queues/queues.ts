import { Queue } from 'bullmq';
import { type RedisClient as Redis, redisPublish } from '../redis.js';
import type { Block, ConversationUpdatedEvent, ModelParams } from '@switchboard/contracts';

/**
 * A queue this process only adds to (or inspects), on its shared commands connection. That
 * connection reports its own losses (createRedis); without a listener here BullMQ would also print
 * every reconnect error to stderr.
 */
export function producerQueue<T = unknown>(name: string, connection: Redis, prefix: string): Queue<T> {
  const queue = new Queue<T>(name, { connection, prefix });
  queue.on('error', () => undefined);
  return queue;
}

export const chatQueueName = 'chat';

/**
 * The hash tag of one model's lane: `{sb}` + `us.anthropic…` → `{sb:us.anthropic…}`. Keys under
 * one tag share a Redis Cluster slot (a Lua script may touch them together); different models
 * land on different shards.
 */
export function modelTag(queuePrefix: string, modelId: string): string {
  return `{${queuePrefix.slice(1, -1)}:${modelId.replace(/[{}]/g, '_')}}`;
}

/** How long BullMQ keeps finished jobs of the chat, titles and summarize queues (for inspection). */
const kept = { removeOnComplete: { age: 3600, count: 10_000 }, removeOnFail: { age: 24 * 3600 } } as const;

/**
 * The chat queue of each model. On a Redis Cluster (`perModel`) a model's chat queue lives under
 * the model's own tag (`{sb:<model>}:chat:*`, next to its quota keys), so the models' lanes spread
 * over the shards instead of all queue traffic landing on the `{sb}` shard; on one Redis all models
 * share the one `{sb}:chat` queue, as always. Queues are opened on first use and kept.
 */
export class ChatQueues {
  private readonly queues = new Map<string, Queue<ChatJobData>>();

  constructor(
    private readonly connection: Redis,
    readonly queuePrefix: string,
    readonly perModel: boolean,
  ) {}

  /** The BullMQ prefix of a model's chat queue. */
  prefixFor(modelId: string): string {
    return this.perModel ? modelTag(this.queuePrefix, modelId) : this.queuePrefix;
  }

  for(modelId: string): Queue<ChatJobData> {
    const prefix = this.prefixFor(modelId);
    let queue = this.queues.get(prefix);
    if (!queue) {
      queue = producerQueue<ChatJobData>(chatQueueName, this.connection, prefix);
      this.queues.set(prefix, queue);
    }
    return queue;
  }

  /** The queues of these models (one on a single Redis). */
  of(modelIds: readonly string[]): Queue<ChatJobData>[] {
    return [...new Set(modelIds.map((id) => this.for(id)))];
  }

  async close(): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.close()));
  }
}

/** What the API puts on the chat queue; everything else is read from Postgres by the worker. */
export type ChatJobData = {
  jobId: string;
  owner: string;
  conversationId: string;
  userMessageId: string;
  assistantMessageId: string;
  modelId: string;
  params: ModelParams;
  /** Correlation id that follows the chat from the socket through the queue to the worker. */
  requestId: string;
  /** The user's groups when they sent it (budgets, shares and the ledger count by group). */
  groups?: string[];
  /**
   * The first turn of a new conversation carries what its call needs (the conversation has no
   * history, no summary): the worker then reads nothing from Postgres before calling Bedrock.
   * Absent for later turns, for large content (see firstTurnMaxChars) and in payloads rebuilt
   * from Postgres: the worker reads the conversation then.
   */
  first?: FirstTurn;
};

/** What a first turn's call needs; see ChatJobData.first. */
export type FirstTurn = { content: Block[]; systemPrompt: string | null; title: string };

/** Content larger than this (JSON characters: images, documents) stays out of the job data. */
export const firstTurnMaxChars = 32 * 1024;

/** Options of a chat job, whoever enqueues it (the API, or the reconciler after a Redis loss). */
export const chatJobOptions = {
  attempts: 3,
  backoff: { type: 'exponential', delay: 500 },
  ...kept,
} as const;

/** Workers listen here for cancels of jobs they might hold (one subscription per worker). */
export const cancelChannel = (queuePrefix: string) => `${queuePrefix}:cancel`;
/** Set when a cancel is asked, so a job picked up afterwards stops before calling Bedrock. */
export const cancelKey = (jobId: string) => `{job:${jobId}}:cancel`;
/** Nodes with sockets of a user hear here about that user's new jobs and changed conversations. */
export const userChannel = (queuePrefix: string, owner: string) => `{${queuePrefix.slice(1, -1)}:user:${owner}}`;
/** The owner a user channel is for (undefined: not a user channel of this deployment). */
export function ownerOfUserChannel(queuePrefix: string, channel: string): string | undefined {
  const start = `{${queuePrefix.slice(1, -1)}:user:`;
  return channel.startsWith(start) && channel.endsWith('}') ? channel.slice(start.length, -1) : undefined;
}
/**
 * What the user channel carries: a new job to follow (`{ jobId, node?, update? }`; `node`: the API
 * node that announced it, which already follows it and told its own sockets; `update`: the
 * `conversation:updated` of the turn, for every socket but `except`, in the same message), or a
 * socket event for every socket of the user on every node (`except`: the socket whose request
 * caused it).
 */
export type UserChannelMessage =
  | { jobId: string; node?: string; update?: ConversationUpdatedEvent; except?: string }
  | { event: string; payload: unknown; except?: string };

/** Publishes `conversation:updated` for every socket of the user (best effort: never throws). */
export async function publishConversationUpdate(
  redis: Redis,
  queuePrefix: string,
  owner: string,
  payload: ConversationUpdatedEvent,
  except?: string,
): Promise<void> {
  const message: UserChannelMessage = { event: 'conversation:updated', payload, ...(except ? { except } : {}) };
  await redisPublish(redis, userChannel(queuePrefix, owner), JSON.stringify(message)).catch(() => undefined);
}

export const titlesQueueName = 'titles';
/** A conversation to title after an exchange (the worker re-reads what it was not handed). */
export type TitleJobData = {
  conversationId: string;
  owner: string;
  /** The owner's groups (ledger). */
  groups?: string[];
  /**
   * The exchange to title, when the chat worker had it in hand (a first turn from its job data):
   * the titling job then reads nothing from Postgres; it still replaces only the title it names.
   */
  exchange?: { title: string; modelId: string; question: string; answer: string };
};
export const titleJobOptions = {
  attempts: 2,
  backoff: { type: 'fixed', delay: 2000 },
  ...kept,
} as const;

export const summarizeQueueName = 'summarize';
export const webhooksQueueName = 'webhooks';

/** What the API puts on the summarize queue (job id = the Postgres job id); the input stays in Postgres. */
export type SummarizeJobData = { jobId: string; owner: string; requestId: string };
/** Options of a summarize job, whoever enqueues it (the API, or the reconciler after a Redis loss). */
export const summarizeJobOptions = {
  attempts: 3,
  backoff: { type: 'exponential', delay: 1000 },
  ...kept,
} as const;

/** Options of the chunk jobs a long document is split into (children of its summarize job). */
export const summarizeChunkJobOptions = {
  attempts: 3,
  backoff: { type: 'exponential', delay: 1000 },
  failParentOnFailure: true,
  removeOnComplete: { age: 3600 },
  removeOnFail: { age: 24 * 3600 },
} as const;

/**
 * A callback owed for a finished job (or a finished batch: `batchId`); its BullMQ id is
 * `webhookJobId(id)`, so it is queued once. The id is also the `X-Switchboard-Delivery` header.
 */
export type WebhookJobData = { jobId: string; batchId?: undefined } | { batchId: string; jobId?: undefined };
export const webhookJobId = (jobId: string) => `wh-${jobId}`;

/** Every process reloads its model catalog when this channel says so (admin endpoint). */
export const controlChannel = (queuePrefix: string) => `${queuePrefix}:control`;
/** `drain`: the named worker stops taking jobs and finishes the ones it runs (ops CLI). */
export type ControlMessage = { type: 'reload-catalog' } | { type: 'drain'; workerId: string };
