import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import type {
  ConversationCreate,
  ConversationPage,
  ConversationUpdate,
  ConversationWithMessages,
  ModelEntry,
  ModelParams,
} from '@switchboard/contracts';
import type { ConversationRow, DbExecutor } from '@switchboard/server-core';
import { AppError, notFound } from '../common/app-error.js';
import { CatalogService } from '../config/catalog.service.js';
import { ConversationsRepository, toConversation, toMessage } from './conversations.repository.js';

const defaultTitle = 'New conversation';

@Injectable()
export class ConversationsService {
  constructor(
    private readonly repository: ConversationsRepository,
    private readonly catalog: CatalogService,
  ) {}

  async list(owner: string, query: { limit: number; cursor?: string; q?: string }): Promise<ConversationPage> {
    const { rows, hasMore } = await this.repository.list(owner, {
      limit: query.limit,
      cursor: query.cursor ? decodeCursor(query.cursor) : undefined,
      q: query.q || undefined,
    });
    const last = rows.at(-1);
    return { items: rows.map(toConversation), nextCursor: hasMore && last ? encodeCursor(last) : null };
  }

  async get(owner: string, id: string): Promise<ConversationWithMessages> {
    const row = await this.require(owner, id);
    const messages = await this.repository.messagesOf(row.id);
    return { ...toConversation(row), messages: messages.map(toMessage) };
  }

  /** The caller's conversation; another user's looks exactly like a missing one. */
  async require(owner: string, id: string): Promise<ConversationRow> {
    const row = isUuid(id) ? await this.repository.find(owner, id) : undefined;
    if (!row) throw notFound('Conversation');
    return row;
  }

  async create(owner: string, input: ConversationCreate, tx?: DbExecutor): Promise<ConversationRow> {
    const model = input.modelId ? this.catalog.require(input.modelId) : this.catalog.default();
    const params = input.params ?? {};
    checkParams(model, params);
    return this.repository.insert(
      {
        id: randomUUID(),
        owner,
        title: input.title ?? defaultTitle,
        modelId: model.id,
        systemPrompt: input.systemPrompt ?? null,
        params,
      },
      tx,
    );
  }

  async update(owner: string, id: string, patch: ConversationUpdate) {
    const current = await this.require(owner, id);
    const model = this.catalog.require(patch.modelId ?? current.modelId);
    if (patch.params) checkParams(model, patch.params);
    const row = await this.repository.update(owner, id, patch);
    if (!row) throw notFound('Conversation');
    return toConversation(row);
  }

  async delete(owner: string, id: string): Promise<void> {
    if (!isUuid(id) || !(await this.repository.delete(owner, id))) throw notFound('Conversation');
  }
}

/** Parameters must fit the model, as Bedrock would otherwise reject the call later. */
export function checkParams(model: ModelEntry, params: ModelParams): void {
  if (params.maxTokens !== undefined && params.maxTokens > model.maxOutputTokens) {
    throw new AppError('validation_failed', `maxTokens must be at most ${model.maxOutputTokens} for ${model.name}`, [
      { path: 'params.maxTokens', message: `at most ${model.maxOutputTokens}` },
    ]);
  }
}

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isUuid = (s: string) => uuidPattern.test(s);

function encodeCursor(row: ConversationRow): string {
  return Buffer.from(`${row.updatedAt.toISOString()}|${row.id}`).toString('base64url');
}

function decodeCursor(cursor: string): { updatedAt: Date; id: string } {
  const [at, id] = Buffer.from(cursor, 'base64url').toString().split('|');
  const updatedAt = new Date(at ?? '');
  if (!id || !isUuid(id) || Number.isNaN(updatedAt.getTime())) throw new AppError('bad_request', 'Invalid cursor');
  return { updatedAt, id };
}
