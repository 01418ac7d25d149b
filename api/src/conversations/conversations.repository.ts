import { Inject, Injectable } from '@nestjs/common';
import { and, asc, desc, eq, ilike, lt, or, sql } from 'drizzle-orm';
import type { Conversation, Message, ModelParams } from '@switchboard/contracts';
import {
  type ConversationRow,
  conversations,
  type Database,
  type Db,
  type DbExecutor,
  type MessageRow,
  messages,
} from '@switchboard/server-core';
import { DATABASE } from '../database/database.module.js';

export type ConversationPatch = Partial<{
  title: string;
  modelId: string;
  systemPrompt: string | null;
  params: ModelParams;
}>;

/** The only I/O of conversations and their messages. */
@Injectable()
export class ConversationsRepository {
  private readonly db: Db;

  constructor(@Inject(DATABASE) database: Database) {
    this.db = database.db;
  }

  async list(owner: string, opts: { limit: number; cursor?: { updatedAt: Date; id: string }; q?: string }) {
    const filters = [eq(conversations.owner, owner)];
    if (opts.q) filters.push(ilike(conversations.title, `%${escapeLike(opts.q)}%`));
    if (opts.cursor) {
      const { updatedAt, id } = opts.cursor;
      filters.push(
        or(lt(conversations.updatedAt, updatedAt), and(eq(conversations.updatedAt, updatedAt), lt(conversations.id, id)))!,
      );
    }
    const rows = await this.db
      .select()
      .from(conversations)
      .where(and(...filters))
      .orderBy(desc(conversations.updatedAt), desc(conversations.id))
      .limit(opts.limit + 1);
    return { rows: rows.slice(0, opts.limit), hasMore: rows.length > opts.limit };
  }

  async find(owner: string, id: string): Promise<ConversationRow | undefined> {
    const [row] = await this.db
      .select()
      .from(conversations)
      .where(and(eq(conversations.owner, owner), eq(conversations.id, id)));
    return row;
  }

  async messagesOf(conversationId: string): Promise<MessageRow[]> {
    return this.db.select().from(messages).where(eq(messages.conversationId, conversationId)).orderBy(asc(messages.position));
  }

  async insert(row: typeof conversations.$inferInsert, tx: DbExecutor = this.db): Promise<ConversationRow> {
    const [created] = await tx.insert(conversations).values(row).returning();
    return created!;
  }

  async update(owner: string, id: string, patch: ConversationPatch): Promise<ConversationRow | undefined> {
    const [row] = await this.db
      .update(conversations)
      .set({ ...patch, updatedAt: sql`now()` })
      .where(and(eq(conversations.owner, owner), eq(conversations.id, id)))
      .returning();
    return row;
  }

  async delete(owner: string, id: string): Promise<boolean> {
    const rows = await this.db
      .delete(conversations)
      .where(and(eq(conversations.owner, owner), eq(conversations.id, id)))
      .returning({ id: conversations.id });
    return rows.length > 0;
  }
}

const escapeLike = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);

export function toConversation(row: ConversationRow): Conversation {
  return {
    id: row.id,
    title: row.title,
    modelId: row.modelId,
    systemPrompt: row.systemPrompt,
    params: row.params ?? {},
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

export function toMessage(row: MessageRow): Message {
  return {
    id: row.id,
    conversationId: row.conversationId,
    role: row.role,
    content: row.content,
    modelId: row.modelId,
    jobId: row.jobId,
    status: row.status,
    stopReason: row.stopReason,
    usage: row.usage ?? null,
    createdAt: row.createdAt.toISOString(),
  };
}
