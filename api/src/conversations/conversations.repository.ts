import { Inject, Injectable } from '@nestjs/common';
import { and, asc, desc, eq, ilike, inArray, lt, or, sql } from 'drizzle-orm';
import { type Conversation, type Message, type ModelParams, textOf } from '@switchboard/contracts';
import {
  type ConversationRow,
  conversations,
  type Database,
  type Db,
  jobIsOpen,
  jobs,
  messageColumns,
  type MessageRow,
  messages,
} from '@switchboard/server-core';
import { DATABASE } from '../database/database.module.js';

export type NewConversation = typeof conversations.$inferInsert & { id: string; params: ModelParams };

export type ConversationPatch = Partial<{
  title: string;
  modelId: string;
  systemPrompt: string | null;
  params: ModelParams;
  activeLeafId: string | null;
}>;

export type UsageTotals = { inputTokens: number; outputTokens: number; cost: number };

// Chinese, Japanese and Korean text has no spaces: the 'simple' parser keeps a whole run as one word.
const cjk = /[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]/;
export const hasCjk = (q: string) => cjk.test(q);

const messageText = sql`jsonb_path_query_array(${messages.content}, 'strict $[*] ? (@.type == "text").text')::text`;

/** The only I/O of conversations and their messages. */
@Injectable()
export class ConversationsRepository {
  private readonly db: Db;

  constructor(@Inject(DATABASE) database: Database) {
    this.db = database.db;
  }

  async list(owner: string, opts: { limit: number; cursor?: { updatedAt: Date; id: string }; q?: string }) {
    const filters = [eq(conversations.owner, owner)];
    if (opts.q) filters.push(this.matches(opts.q));
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

  /** Full-text match on the title or any message; CJK queries match as substrings instead. */
  private matches(q: string) {
    if (hasCjk(q)) {
      const pattern = `%${escapeLike(q)}%`;
      return or(
        ilike(conversations.title, pattern),
        sql`exists (select 1 from ${messages} where ${messages.conversationId} = ${conversations.id} and ${messageText} ilike ${pattern})`,
      )!;
    }
    const query = sql`websearch_to_tsquery('simple', ${q})`;
    return or(
      sql`${conversations.titleSearch} @@ ${query}`,
      sql`exists (select 1 from ${messages} where ${messages.conversationId} = ${conversations.id} and ${messages.contentSearch} @@ ${query})`,
    )!;
  }

  /** Per conversation, the text of the newest message matching q (for snippets). */
  async matchingTexts(conversationIds: string[], q: string): Promise<Map<string, string>> {
    if (conversationIds.length === 0) return new Map();
    const match = hasCjk(q)
      ? sql`${messageText} ilike ${`%${escapeLike(q)}%`}`
      : sql`${messages.contentSearch} @@ websearch_to_tsquery('simple', ${q})`;
    const rows = await this.db
      .selectDistinctOn([messages.conversationId], { conversationId: messages.conversationId, content: messages.content })
      .from(messages)
      .where(and(inArray(messages.conversationId, conversationIds), match))
      .orderBy(messages.conversationId, desc(messages.position));
    return new Map(rows.map((r) => [r.conversationId, textOf(r.content)]));
  }

  /** Tokens and cost summed over each conversation's answers (compression is on the conversation row). */
  async usageOf(conversationIds: string[]): Promise<Map<string, UsageTotals>> {
    if (conversationIds.length === 0) return new Map();
    const rows = await this.db
      .select({
        conversationId: messages.conversationId,
        inputTokens: sql<string>`coalesce(sum((${messages.usage}->>'inputTokens')::bigint), 0)`,
        outputTokens: sql<string>`coalesce(sum((${messages.usage}->>'outputTokens')::bigint), 0)`,
        cost: sql<string>`coalesce(sum(${messages.cost}), 0)`,
      })
      .from(messages)
      .where(and(inArray(messages.conversationId, conversationIds), eq(messages.role, 'assistant')))
      .groupBy(messages.conversationId);
    return new Map(
      rows.map((r) => [r.conversationId, { inputTokens: Number(r.inputTokens), outputTokens: Number(r.outputTokens), cost: Number(r.cost) }]),
    );
  }

  async find(owner: string, id: string): Promise<ConversationRow | undefined> {
    const [row] = await this.db
      .select()
      .from(conversations)
      .where(and(eq(conversations.owner, owner), eq(conversations.id, id)));
    return row;
  }

  async messagesOf(conversationId: string): Promise<MessageRow[]> {
    return this.db.select(messageColumns).from(messages).where(eq(messages.conversationId, conversationId)).orderBy(asc(messages.position));
  }

  async insert(row: NewConversation): Promise<ConversationRow> {
    const [created] = await this.db.insert(conversations).values(row).returning();
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

  /**
   * Deletes the conversation (its messages and jobs go with it); undefined when there was none of
   * this owner's. Returns the chats it still had open, read in the same statement, so they can be
   * stopped.
   */
  async delete(owner: string, id: string): Promise<{ openJobIds: string[] } | undefined> {
    const result = await this.db.execute<{ open_job_ids: string[] }>(sql`
      with gone as (
        delete from ${conversations} where ${conversations.owner} = ${owner} and ${conversations.id} = ${id} returning ${conversations.id}
      )
      select array(select ${jobs.id}::text from ${jobs} where ${jobs.conversationId} = ${id} and ${jobIsOpen}) as open_job_ids
      from gone`);
    const row = result.rows[0];
    return row && { openJobIds: row.open_job_ids };
  }
}

const escapeLike = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);

/** Answers' totals plus what history compression cost. */
export function toConversation(row: ConversationRow, usage?: UsageTotals): Conversation {
  const answers = usage ?? { inputTokens: 0, outputTokens: 0, cost: 0 };
  return {
    id: row.id,
    title: row.title,
    modelId: row.modelId,
    systemPrompt: row.systemPrompt,
    params: row.params ?? {},
    usage: {
      inputTokens: answers.inputTokens + row.compressInputTokens,
      outputTokens: answers.outputTokens + row.compressOutputTokens,
      cost: answers.cost + row.compressCost,
    },
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
    parentId: row.parentId,
    cost: row.cost,
    ...(row.reasoning ? { reasoning: row.reasoning } : {}),
    createdAt: row.createdAt.toISOString(),
  };
}
