import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import type { RedisClient as Redis } from '@switchboard/server-core';
import type { Socket } from 'socket.io';
import {
  type ChatRegenerate,
  type ChatSend,
  chatServerEvents,
  type ConversationUpdatedEvent,
  type ModelEntry,
  rulesOf,
  textOf,
} from '@switchboard/contracts';
import {
  type AppConfig,
  type ChatJobData,
  type ChatQueues,
  doneEventOf,
  endJobStream,
  enqueueChat,
  errorEventOf,
  type JobRow,
  lastJobStreamSeq,
  firstTurnMaxChars,
  type FirstTurn,
  firstWordsTitle,
  type MessageRow,
  type QuotaGovernor,
  requestCancel,
} from '@switchboard/server-core';
import { AuditService } from '../audit/audit.service.js';
import { AppError, notFound } from '../common/app-error.js';
import { CatalogService } from '../config/catalog.service.js';
import { checkDocumentSizes } from '../documents/document-limits.js';
import { LimitsService } from '../limits/limits.service.js';
import { APP_CONFIG } from '../config/tokens.js';
import { isUuid } from '../common/ids.js';
import { checkModelRules, checkParams, ConversationsService } from '../conversations/conversations.service.js';
import { whenRedisUp } from '../common/redis-guard.js';
import { CHAT_QUEUE, QUOTA_GOVERNOR, REDIS } from '../redis/redis.module.js';
import { ChatRepository, type NewRegeneration, type StoreOutcome } from './chat.repository.js';
import { JobRelayService } from './job-relay.service.js';

/** What queueing a turn's job is keyed by. */
type QueuedTurn = Pick<NewRegeneration, 'owner' | 'jobId' | 'modelId'>;

export type SendResult = { jobId: string; conversationId: string; messageId: string; assistantMessageId?: string };

@Injectable()
export class ChatService {
  private readonly logger = new Logger(ChatService.name);

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(CHAT_QUEUE) private readonly queues: ChatQueues,
    @Inject(QUOTA_GOVERNOR) private readonly governor: QuotaGovernor,
    private readonly repository: ChatRepository,
    private readonly conversations: ConversationsService,
    private readonly catalog: CatalogService,
    private readonly relay: JobRelayService,
    private readonly limits: LimitsService,
    private readonly audit: AuditService,
  ) {}

  /** The model when the user's groups may use it; a refusal (`model_not_allowed`) is audited. */
  private async allowedModel(owner: string, groups: readonly string[], modelId: string | undefined) {
    try {
      return this.catalog.modelFor(modelId, groups);
    } catch (err) {
      if (err instanceof AppError && err.code === 'model_not_allowed') await this.audit.modelRefused(owner, modelId, 'chat');
      throw err;
    }
  }

  /**
   * Stores the user's message and the job in Postgres, then enqueues: accepted means durable. A
   * clientMessageId already used is found by the insert itself (no lookup before it, one round
   * trip less before the first token), and answers with the turn it started.
   */
  async send(owner: string, input: ChatSend, requestId: string, socketId?: string, groups: readonly string[] = []): Promise<SendResult> {
    const existing = input.conversationId ? await this.conversations.require(owner, input.conversationId) : undefined;
    if (input.parentMessageId !== undefined && !existing) {
      throw new AppError('validation_failed', 'parentMessageId needs a conversationId', [
        { path: 'parentMessageId', message: 'needs conversationId' },
      ]);
    }
    if (input.parentMessageId && !(isUuid(input.parentMessageId) && (await this.repository.findMessageOf(owner, existing!.id, input.parentMessageId)))) {
      throw notFound('Parent message');
    }
    const model = await this.allowedModel(owner, groups, input.modelId ?? existing?.modelId);
    checkCapabilities(model, input);
    // Documents go to Bedrock as they are (nothing is extracted here): only their sizes are checked.
    checkDocumentSizes(input.content.flatMap((b, i) => (b.type === 'document' ? [{ ...b, path: `content.${i}.data` }] : [])), this.config.documents);
    const params = { ...(existing?.params ?? {}), ...(input.params ?? {}) };
    checkParams(model, params);
    checkModelRules(model, input.params ?? {});
    // Released once the turn is stored (or refused): until then it counts as one of the user's open chats.
    const allowance = await this.limits.checkChat(owner, contentBytes(input.content));
    try {
      const turn = {
        owner,
        jobId: randomUUID(),
        userMessageId: randomUUID(),
        assistantMessageId: randomUUID(),
        modelId: model.id,
        content: input.content,
        params,
        clientMessageId: input.clientMessageId,
        requestId,
        parentId: input.parentMessageId,
        fallbackTitle: firstWordsTitle(input.content),
        groups: [...groups],
      };
      const newConversation = existing ? undefined : this.conversations.newConversation(owner, { title: firstWordsTitle(input.content), modelId: model.id });
      const conversationId = existing?.id ?? newConversation!.id;
      const prepared = this.prepareQueueing(turn);
      const stored = await this.whenStored(prepared, turn, () => this.repository.insertTurn({ ...turn, conversationId }, newConversation, allowance.maxOpenChats));
      if (stored === 'over_limit') throw await allowance.refuse();
      if (stored === 'duplicate') {
        // A retry of the same clientMessageId (or a race with one).
        const previous = await this.repository.findUserMessageByClientId(owner, input.clientMessageId!);
        if (!previous) throw new AppError('conflict', 'Could not store the message, try again');
        return this.sameTurn(previous);
      }
      // A new conversation's first turn carries its content, so the worker reads no Postgres before the call.
      const first =
        newConversation && JSON.stringify(input.content).length <= firstTurnMaxChars
          ? { content: input.content, systemPrompt: newConversation.systemPrompt ?? null, title: newConversation.title }
          : undefined;
      await this.enqueue({ ...turn, conversationId }, prepared, { conversationId, change: existing ? 'message' : 'created', jobId: turn.jobId }, socketId, first);
      return { jobId: turn.jobId, conversationId, messageId: turn.userMessageId, assistantMessageId: turn.assistantMessageId };
    } finally {
      void allowance.release();
    }
  }

  /**
   * A new answer to the user message that `messageId` (an assistant message) answered, stored as
   * that answer's sibling; the conversation's branch moves to it.
   */
  async regenerate(owner: string, input: ChatRegenerate, requestId: string, socketId?: string, groups: readonly string[] = []): Promise<SendResult> {
    const answer = isUuid(input.messageId) ? await this.repository.findOwnMessage(owner, input.messageId) : undefined;
    if (!answer) throw notFound('Message');
    if (answer.role !== 'assistant' || !answer.parentId) {
      throw new AppError('bad_request', 'Only an answer (an assistant message) can be regenerated');
    }
    const conversation = await this.conversations.require(owner, answer.conversationId);
    const question = await this.repository.findMessageOf(owner, conversation.id, answer.parentId);
    if (!question || question.role !== 'user') throw new AppError('bad_request', 'The answer has no question to answer again');
    const model = await this.allowedModel(owner, groups, input.modelId ?? conversation.modelId);
    checkCapabilities(model, { content: question.content } as ChatSend);
    const params = { ...(conversation.params ?? {}), ...(input.params ?? {}) };
    checkParams(model, params);
    checkModelRules(model, input.params ?? {});
    const allowance = await this.limits.checkChat(owner, 0);
    try {
      const turn = {
        owner,
        conversationId: conversation.id,
        jobId: randomUUID(),
        userMessageId: question.id,
        assistantMessageId: randomUUID(),
        modelId: model.id,
        params,
        clientMessageId: input.clientMessageId,
        requestId,
        groups: [...groups],
      };
      const prepared = this.prepareQueueing(turn);
      const stored = await this.whenStored(prepared, turn, () => this.repository.insertRegeneration(turn, allowance.maxOpenChats));
      if (stored === 'over_limit') throw await allowance.refuse();
      if (stored === 'duplicate') {
        const previous = await this.repository.findUserMessageByClientId(owner, input.clientMessageId!);
        if (!previous) throw new AppError('conflict', 'Could not store the request, try again');
        return this.sameTurn(previous);
      }
      await this.enqueue(turn, prepared, { conversationId: conversation.id, change: 'message', jobId: turn.jobId }, socketId);
      return { jobId: turn.jobId, conversationId: conversation.id, messageId: question.id, assistantMessageId: turn.assistantMessageId };
    } finally {
      void allowance.release();
    }
  }

  /**
   * What queueing needs from Redis before the job is added, run while Postgres stores the turn (one
   * round trip less before the first token): this node's sockets of the user follow the job, and
   * the job joins the model's line (batch calls asking before a worker has the chat wait behind
   * it). A turn not stored gives both back (whenStored); a failure is handled in enqueue.
   */
  private prepareQueueing(turn: QueuedTurn): Promise<unknown> {
    const prepared = whenRedisUp(this.redis, this.config.redisEnqueueTimeoutMs, () =>
      Promise.all([this.relay.watchBeforeEnqueue(turn.owner, turn.jobId), this.governor.join({ modelId: turn.modelId, jobId: turn.jobId, owner: turn.owner, lane: 'chat' })]),
    );
    prepared.catch(() => undefined); // awaited in enqueue, or given back
    return prepared;
  }

  /** The insert's outcome; a turn it did not store (refused, a duplicate, a failure) leaves nothing prepared behind. */
  private async whenStored(prepared: Promise<unknown>, turn: QueuedTurn, insert: () => Promise<StoreOutcome>): Promise<StoreOutcome> {
    let stored: StoreOutcome | undefined;
    try {
      return (stored = await insert());
    } finally {
      if (stored !== 'stored') this.abandonQueueing(prepared, turn);
    }
  }

  /** Best effort and not awaited: Redis may be gone (a place in line nobody comes back to lapses with its lease). */
  private abandonQueueing(prepared: Promise<unknown>, turn: QueuedTurn) {
    void prepared
      .catch(() => undefined)
      .then(() => {
        this.relay.forget(turn.jobId);
        return this.governor.leave(turn.modelId, turn.jobId);
      })
      .catch(() => undefined);
  }

  /**
   * Tells the user's sockets (the turn's `update`, to all but the sender's socket) and enqueues,
   * once prepareQueueing is through; a failed enqueue ends the job.
   */
  private async enqueue(
    turn: NewRegeneration,
    prepared: Promise<unknown>,
    update: ConversationUpdatedEvent,
    senderSocketId?: string,
    first?: FirstTurn,
  ): Promise<void> {
    const { owner, requestId } = turn;
    const data: ChatJobData = {
      jobId: turn.jobId,
      owner,
      conversationId: turn.conversationId,
      userMessageId: turn.userMessageId,
      assistantMessageId: turn.assistantMessageId,
      modelId: turn.modelId,
      params: turn.params,
      requestId,
      ...(turn.groups?.length ? { groups: turn.groups } : {}),
      ...(first ? { first } : {}),
    };
    try {
      // Fails at once while Redis is down, and within REDIS_ENQUEUE_TIMEOUT_MS when it hangs.
      await prepared;
      await whenRedisUp(this.redis, this.config.redisEnqueueTimeoutMs, async () => {
        const announced = this.relay.announce(owner, turn.jobId, update, senderSocketId);
        this.relay.emitToOwner(owner, chatServerEvents.status, { jobId: turn.jobId, state: 'queued' });
        await Promise.all([announced, enqueueChat(this.queues.for(data.modelId), data)]);
      });
      // The first line of a chat's trail: the worker's lines carry the same requestId and jobId, then Bedrock's request id.
      this.logger.log({ requestId, jobId: turn.jobId, conversationId: turn.conversationId, modelId: turn.modelId }, 'chat queued');
    } catch (err) {
      // Redis failed somewhere on the way: end the stored turn in Postgres so it never waits
      // forever (a retry with the same clientMessageId sees it failed). Leaving the model's line
      // is best effort and not awaited: Redis may still be gone.
      this.logger.error({ err, jobId: turn.jobId, requestId }, 'enqueue failed');
      this.abandonQueueing(prepared, turn);
      const job = await this.repository.findChatJob(owner, turn.jobId);
      if (job) await this.repository.finishUnstarted(job, 'failed', { code: 'unavailable', message: 'The queue is unavailable' });
      throw new AppError('unavailable', 'The chat queue is unavailable, try again shortly');
    }
  }

  /**
   * Stops a job wherever it is: a waiting job is removed from the queue; a running one is told
   * through the workers' cancel channel and stops its Bedrock stream, keeping the partial text.
   */
  async cancel(owner: string, jobId: string): Promise<void> {
    const job = await this.requireJob(owner, jobId);
    if (job.status !== 'queued' && job.status !== 'active') throw new AppError('conflict', `Job is already ${job.status}`);
    const { removed } = await requestCancel(this.redis, this.queues.for(job.modelId), this.config.queuePrefix, jobId);
    if (removed) {
      // It may have been waiting for quota: give its place in line to the next one.
      await this.governor.leave(job.modelId, jobId);
      await this.finishUnstarted(job, 'cancelled');
    }
  }

  /** Sends the socket everything after afterSeq; from Postgres when the stream has expired. */
  async resume(socket: Socket, owner: string, jobId: string, afterSeq: number): Promise<void> {
    const job = await this.requireJob(owner, jobId);
    const finished = job.status !== 'queued' && job.status !== 'active';
    if (finished && (await lastJobStreamSeq(this.redis, jobId)) === 0) {
      await this.emitFinishedFromDatabase(socket, job);
      return;
    }
    await this.relay.resume(socket, owner, jobId, afterSeq);
  }

  private async requireJob(owner: string, jobId: string): Promise<JobRow> {
    const job = isUuid(jobId) ? await this.repository.findChatJob(owner, jobId) : undefined;
    if (!job) throw notFound('Job');
    return job;
  }

  private async finishUnstarted(job: JobRow, status: 'cancelled' | 'failed', error?: { code: string; message: string }) {
    if (!(await this.repository.finishUnstarted(job, status, error))) return;
    if (status === 'cancelled') {
      await endJobStream(this.redis, job.id, { status, conversationId: job.conversationId!, messageId: job.messageId!, text: '' });
    } else {
      await endJobStream(this.redis, job.id, { status, error: error!, retryable: true }).catch(() => undefined);
    }
  }

  private async emitFinishedFromDatabase(socket: Socket, job: JobRow) {
    const message = job.messageId ? await this.repository.findMessage(job.messageId) : undefined;
    if (job.status === 'failed' || !message) {
      const error = { code: job.error?.code ?? 'model_error', message: job.error?.message ?? 'The answer failed' };
      socket.emit(chatServerEvents.error, { jobId: job.id, ...errorEventOf({ status: 'failed', error, retryable: true }) });
      return;
    }
    socket.emit(chatServerEvents.done, {
      jobId: job.id,
      ...doneEventOf({
        status: job.status === 'cancelled' ? 'cancelled' : 'completed',
        conversationId: message.conversationId,
        messageId: message.id,
        stopReason: message.stopReason,
        usage: message.usage,
        text: textOf(message.content),
        reasoning: message.reasoning,
        cost: message.cost,
      }),
    });
  }

  /** The earlier outcome of a retried clientMessageId (a user message, or the answer of a regenerate). */
  private async sameTurn(message: MessageRow): Promise<SendResult> {
    if (message.role === 'assistant') {
      return { jobId: message.jobId!, conversationId: message.conversationId, messageId: message.parentId!, assistantMessageId: message.id };
    }
    const job = await this.repository.findChatJob(message.owner, message.jobId!);
    const result: SendResult = { jobId: message.jobId!, conversationId: message.conversationId, messageId: message.id };
    if (job?.messageId) result.assistantMessageId = job.messageId;
    return result;
  }
}

function checkCapabilities(model: ModelEntry, input: ChatSend) {
  if (!model.vision && input.content.some((b) => b.type === 'image')) {
    throw new AppError('bad_request', `${model.name} does not accept images`);
  }
  if (!model.documents && input.content.some((b) => b.type === 'document')) {
    throw new AppError('bad_request', `${model.name} does not accept documents`);
  }
  // The model's own media limits (the contract's are Bedrock's defaults; a model may take fewer).
  const rules = rulesOf(model);
  const refuse = (message: string) => {
    throw new AppError('validation_failed', message, [{ path: 'content', message }]);
  };
  const images = input.content.filter((b) => b.type === 'image');
  const documents = input.content.filter((b) => b.type === 'document');
  if (images.length > rules.images.maxCount) refuse(`${model.name} takes at most ${rules.images.maxCount} images`);
  if (documents.length > rules.documents.maxCount) refuse(`${model.name} takes at most ${rules.documents.maxCount} documents`);
  if (images.some((b) => base64Bytes(b.data) > rules.images.maxBytes)) refuse(`images for ${model.name} must be at most ${rules.images.maxBytes} bytes`);
  if (documents.some((b) => base64Bytes(b.data) > rules.documents.maxBytes)) refuse(`documents for ${model.name} must be at most ${rules.documents.maxBytes} bytes`);
  const badFormat = documents.find((b) => !(rules.documents.formats as readonly string[]).includes(b.format));
  if (badFormat) refuse(`${model.name} does not read ${badFormat.format} documents`);
}

const base64Bytes = (data: string) => Math.floor((data.length * 3) / 4) - (data.endsWith('==') ? 2 : data.endsWith('=') ? 1 : 0);

/** About the bytes a message adds to storage (text and base64 as sent). */
function contentBytes(content: ChatSend['content']): number {
  return content.reduce((n, b) => n + (b.type === 'text' ? b.text.length : b.data.length), 0);
}
