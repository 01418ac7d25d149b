import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import type {
  ConversationCreate,
  ConversationListItem,
  ConversationPage,
  ConversationUpdate,
  ConversationWithMessages,
  ModelEntry,
  ModelParams,
} from '@switchboard/contracts';
import { rulesOf } from '@switchboard/contracts';
import { type AppConfig, type ConversationRow, defaultConversationTitle, type MessageRow, type RedisClient as Redis, signalCancels } from '@switchboard/server-core';
import { AppError, notFound } from '../common/app-error.js';
import { isUuid } from '../common/ids.js';
import { decodeCursor, encodeCursor } from '../common/keyset-cursor.js';
import { whenRedisUp } from '../common/redis-guard.js';
import { CatalogService } from '../config/catalog.service.js';
import { APP_CONFIG } from '../config/tokens.js';
import { REDIS } from '../redis/redis.module.js';
import { type ConversationPatch, ConversationsRepository, type NewConversation, toConversation, toMessage } from './conversations.repository.js';


@Injectable()
export class ConversationsService {
  private readonly logger = new Logger(ConversationsService.name);

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(REDIS) private readonly redis: Redis,
    private readonly repository: ConversationsRepository,
    private readonly catalog: CatalogService,
  ) {}

  async list(owner: string, query: { limit: number; cursor?: string; q?: string }): Promise<ConversationPage> {
    const position = query.cursor ? decodeCursor(query.cursor) : undefined;
    const { rows, hasMore } = await this.repository.list(owner, {
      limit: query.limit,
      cursor: position && { updatedAt: position.at, id: position.id },
      q: query.q || undefined,
    });
    const last = rows.at(-1);
    const ids = rows.map((r) => r.id);
    const [usage, texts] = await Promise.all([
      this.repository.usageOf(ids),
      query.q ? this.repository.matchingTexts(ids, query.q) : Promise.resolve(new Map<string, string>()),
    ]);
    const items: ConversationListItem[] = rows.map((r) => {
      const item: ConversationListItem = toConversation(r, usage.get(r.id));
      if (query.q) item.snippet = snippetOf(texts.get(r.id) ?? r.title, query.q);
      return item;
    });
    return { items, nextCursor: hasMore && last ? encodeCursor(last.updatedAt, last.id) : null };
  }

  async get(owner: string, id: string): Promise<ConversationWithMessages> {
    const row = await this.require(owner, id);
    const [messages, usage] = await Promise.all([this.repository.messagesOf(row.id), this.repository.usageOf([row.id])]);
    return {
      ...toConversation(row, usage.get(row.id)),
      messages: messages.map(toMessage),
      activeLeafId: row.activeLeafId ?? messages.at(-1)?.id ?? null,
      summary:
        row.summary && row.summaryAt
          ? { text: row.summary, coversMessages: row.summaryCovers ?? 0, uptoMessageId: row.summaryUptoMessageId, createdAt: row.summaryAt.toISOString() }
          : null,
    };
  }

  /** The caller's conversation; another user's looks exactly like a missing one. */
  async require(owner: string, id: string): Promise<ConversationRow> {
    const row = isUuid(id) ? await this.repository.find(owner, id) : undefined;
    if (!row) throw notFound('Conversation');
    return row;
  }

  async create(owner: string, input: ConversationCreate, groups: readonly string[] = []): Promise<ConversationRow> {
    return this.repository.insert(this.newConversation(owner, input, groups));
  }

  /**
   * A checked new conversation row, for callers that store it together with more (a first chat turn).
   * With `groups`, only a model those groups may use (catalog allowedGroups; 403 `model_not_allowed`);
   * without, the caller has checked access already.
   */
  newConversation(owner: string, input: ConversationCreate, groups?: readonly string[]): NewConversation {
    const model = groups
      ? input.modelId ? this.catalog.requireFor(input.modelId, groups) : this.catalog.defaultFor(groups)
      : input.modelId ? this.catalog.require(input.modelId) : this.catalog.default();
    const params = input.params ?? {};
    checkParams(model, params);
    checkModelRules(model, params);
    return { id: randomUUID(), owner, title: input.title ?? defaultConversationTitle, modelId: model.id, systemPrompt: input.systemPrompt ?? null, params };
  }

  async update(owner: string, id: string, patch: ConversationUpdate, groups: readonly string[] = []) {
    const current = await this.require(owner, id);
    const model = patch.modelId !== undefined ? this.catalog.requireFor(patch.modelId, groups) : this.catalog.require(current.modelId);
    if (patch.params) {
      checkParams(model, patch.params);
      checkModelRules(model, patch.params);
    }
    const { activeLeafId, ...rest } = patch;
    const changes: ConversationPatch = { ...rest };
    if (activeLeafId !== undefined) changes.activeLeafId = leafThrough(await this.repository.messagesOf(id), activeLeafId);
    const row = await this.repository.update(owner, id, changes);
    if (!row) throw notFound('Conversation');
    const usage = await this.repository.usageOf([row.id]);
    return toConversation(row, usage.get(row.id));
  }

  /** Deletes the conversation and stops the answers it still had open (waiting or streaming). */
  async delete(owner: string, id: string): Promise<void> {
    const deleted = isUuid(id) ? await this.repository.delete(owner, id) : undefined;
    if (!deleted) throw notFound('Conversation');
    if (deleted.openJobIds.length === 0) return;
    // Best effort, bounded: the conversation is gone either way; an answer not stopped only costs its call.
    await whenRedisUp(this.redis, this.config.redisEnqueueTimeoutMs, () => signalCancels(this.redis, this.config.queuePrefix, deleted.openJobIds)).catch(
      (err: unknown) => this.logger.warn({ err, conversationId: id }, 'could not stop the deleted conversation’s answers'),
    );
  }
}

/** Parameters must fit the model, as Bedrock would otherwise reject the call later. */
export function checkParams(model: ModelEntry, params: ModelParams): void {
  if (params.maxTokens !== undefined && params.maxTokens > model.maxOutputTokens) {
    throw new AppError('validation_failed', `maxTokens must be at most ${model.maxOutputTokens} for ${model.name}`, [
      { path: 'params.maxTokens', message: `at most ${model.maxOutputTokens}` },
    ]);
  }
  if (params.compressThreshold && params.compressThreshold >= model.contextWindow) {
    throw new AppError('validation_failed', `compressThreshold must be below ${model.name}'s context window of ${model.contextWindow} tokens`, [
      { path: 'params.compressThreshold', message: `less than ${model.contextWindow}` },
    ]);
  }
}

/**
 * Parameters as sent must be ones Bedrock accepts from the model (its catalog rules); stored ones
 * from before are not refused here: the worker sends what the model accepts of them.
 */
export function checkModelRules(model: ModelEntry, params: ModelParams): void {
  const rules = rulesOf(model);
  const refuse = (field: keyof ModelParams, message: string): never => {
    throw new AppError('validation_failed', `${field}: ${message}`, [{ path: `params.${field}`, message }]);
  };
  if (!rules.sampling) {
    for (const field of ['temperature', 'topP', 'topK'] as const) {
      if (params[field] !== undefined) refuse(field, `${model.name} does not accept temperature, topP or topK`);
    }
  }
  const thinking = params.thinkingBudget ? params.thinkingBudget : undefined;
  if (thinking !== undefined) {
    if (!rules.thinking) refuse('thinkingBudget', `${model.name} does not support extended thinking`);
    else if (thinking < rules.thinking.minBudget) refuse('thinkingBudget', `at least ${rules.thinking.minBudget} tokens for ${model.name}`);
    else if (thinking >= model.maxOutputTokens) refuse('thinkingBudget', `less than ${model.maxOutputTokens} (the model's output limit)`);
    if (params.temperature !== undefined) refuse('temperature', 'cannot be set together with thinkingBudget');
    if (params.topK !== undefined) refuse('topK', 'cannot be set together with thinkingBudget');
    if (params.topP !== undefined && params.topP < 0.95) refuse('topP', 'must be at least 0.95 (or unset) with thinkingBudget');
  }
  if (rules.exclusiveSampling && params.temperature !== undefined && params.topP !== undefined) {
    refuse('topP', `${model.name} takes temperature or topP, not both`);
  }
  if (params.effort) {
    if (!rules.effort) refuse('effort', `${model.name} does not take an effort`);
    else if (!rules.effort.levels.includes(params.effort)) refuse('effort', `one of ${rules.effort.levels.join(', ')} for ${model.name}`);
  }
  if (params.topK !== undefined) {
    if (!rules.topK) refuse('topK', `${model.name} does not accept topK`);
    else if (params.topK < rules.topK.min || params.topK > rules.topK.max) refuse('topK', `between ${rules.topK.min} and ${rules.topK.max} for ${model.name}`);
  }
}

/** The branch's last message through `messageId`: its newest descendant, following the newest child. */
export function leafThrough(messages: readonly MessageRow[], messageId: string): string {
  if (!messages.some((m) => m.id === messageId)) {
    throw new AppError('validation_failed', 'activeLeafId is not a message of this conversation', [
      { path: 'activeLeafId', message: 'not a message of this conversation' },
    ]);
  }
  let leaf = messageId;
  for (;;) {
    const child = messages.filter((m) => m.parentId === leaf).at(-1);
    if (!child) return leaf;
    leaf = child.id;
  }
}

/** About 160 characters around the first query word found in text. */
export function snippetOf(text: string, q: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  const lower = flat.toLowerCase();
  const words = [q, ...q.split(/[\s"]+/)].map((w) => w.replace(/^[-+]/, '').toLowerCase()).filter((w) => w && w !== 'or');
  const at = words.map((w) => lower.indexOf(w)).find((i) => i >= 0) ?? 0;
  const start = Math.max(0, at - 60);
  const end = Math.min(flat.length, start + 160);
  return `${start > 0 ? '…' : ''}${flat.slice(start, end)}${end < flat.length ? '…' : ''}`;
}
