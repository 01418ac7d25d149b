import { Inject, Injectable } from '@nestjs/common';
import { and, eq, inArray, type SQL, sql } from 'drizzle-orm';
import type { Block, ModelParams } from '@switchboard/contracts';
import {
  conversations,
  type Database,
  defaultConversationTitle,
  type Db,
  jobIsOpen,
  type JobRow,
  jobs,
  type MessageRow,
  messages,
} from '@switchboard/server-core';
import { type NewConversation } from '../conversations/conversations.repository.js';
import { DATABASE } from '../database/database.module.js';

export type NewChat = {
  owner: string;
  conversationId: string;
  jobId: string;
  userMessageId: string;
  assistantMessageId: string;
  modelId: string;
  content: Block[];
  /** The turn's parameters (conversation's, overridden by the send's); kept with the job so it can be re-enqueued. */
  params: ModelParams;
  clientMessageId: string | undefined;
  requestId: string;
  /** The message the user's message follows; undefined = the conversation's current leaf. */
  parentId?: string | null;
  /** An existing conversation still titled by default takes this title (the first words). */
  fallbackTitle?: string;
  /** The user's groups when sending (budgets and the ledger); kept with the job like params. */
  groups?: string[];
};

export type NewRegeneration = Omit<NewChat, 'content' | 'parentId'>;

/** What storing a turn came to: `duplicate` when its clientMessageId was used (a concurrent retry), `over_limit` when the user had too many open chats. */
export type StoreOutcome = 'stored' | 'duplicate' | 'over_limit';

function isUniqueViolation(err: unknown, constraint: string): boolean {
  // Drizzle wraps the driver's error in `cause`.
  for (let e = err as { code?: string; constraint?: string; cause?: unknown } | undefined; e; e = e.cause as typeof e) {
    if (e.code === '23505') return e.constraint === undefined || e.constraint === constraint;
  }
  return false;
}

/** The only I/O of chat turns: the user's message, the assistant placeholder and the job record. */
@Injectable()
export class ChatRepository {
  private readonly db: Db;

  constructor(@Inject(DATABASE) database: Database) {
    this.db = database.db;
  }

  /**
   * Stores a turn: the conversation when it is new, the user's message, then the answer (see
   * storeAnswer), while the user has at most `maxOpenChats` open chats (undefined: any number).
   */
  insertTurn(turn: NewChat, newConversation?: NewConversation, maxOpenChats?: number): Promise<StoreOutcome> {
    const cid = turn.conversationId;
    // undefined = follow the current branch: its chosen leaf, else the newest message.
    const parent =
      turn.parentId !== undefined
        ? sql`${turn.parentId}::uuid`
        : newConversation
          ? sql`null::uuid`
          : sql`coalesce(
              (select ${conversations.activeLeafId} from ${conversations} where ${conversations.id} = ${cid}),
              (select ${messages.id} from ${messages} where ${messages.conversationId} = ${cid} order by ${messages.position} desc limit 1))`;
    const question = sql`(${turn.userMessageId}::uuid, ${cid}::uuid, ${turn.owner}, 'user', ${JSON.stringify(turn.content)}::jsonb,
      ${turn.modelId}, ${turn.jobId}::uuid, ${turn.clientMessageId ?? null}, ${parent}, 'complete')`;
    return this.storeAnswer({ ...turn, clientMessageId: undefined }, { newConversation, question, fallbackTitle: turn.fallbackTitle, maxOpenChats });
  }

  /** A new answer to an existing user message (regenerate): a sibling of the earlier answers. */
  insertRegeneration(turn: NewRegeneration, maxOpenChats?: number): Promise<StoreOutcome> {
    return this.storeAnswer(turn, { maxOpenChats });
  }

  /**
   * One statement (one round trip, atomic): the new conversation and the user's message when
   * given, the assistant placeholder under the user's message, the job, and the branch moved to
   * the answer; each only when the user's open chats allow it (the limit's count is part of the
   * statement: no read before it). No ON CONFLICT: a repeated clientMessageId fails the
   * statement, which undoes all of it.
   */
  private async storeAnswer(
    turn: NewRegeneration,
    with_: { newConversation?: NewConversation; question?: SQL; fallbackTitle?: string; maxOpenChats?: number },
  ): Promise<StoreOutcome> {
    const { conversationId: cid } = turn;
    const c = with_.newConversation;
    const allowed =
      with_.maxOpenChats === undefined
        ? sql`true`
        : sql`(select count(*) from ${jobs} where ${jobs.owner} = ${turn.owner} and ${jobs.type} = 'chat' and ${jobIsOpen}) <= ${with_.maxOpenChats}`;
    const answer = sql`(${turn.assistantMessageId}::uuid, ${cid}::uuid, ${turn.owner}, 'assistant', '[]'::jsonb,
      ${turn.modelId}, ${turn.jobId}::uuid, ${turn.clientMessageId ?? null}, ${turn.userMessageId}::uuid, 'streaming')`;
    try {
      const result = await this.db.execute<{ ok: boolean }>(sql`
        with limit_check as (
          select ${allowed} as ok
        ), new_conversation as (
          insert into ${conversations} (id, owner, title, model_id, system_prompt, params, active_leaf_id)
          select ${cid}::uuid, ${turn.owner}, ${c?.title ?? ''}, ${turn.modelId}, ${c?.systemPrompt ?? null}, ${JSON.stringify(c?.params ?? {})}::jsonb, ${turn.assistantMessageId}::uuid
          where ${c !== undefined} and (select ok from limit_check)
        ), new_messages as (
          -- In this order: the question's position comes before the answer's.
          insert into ${messages} (id, conversation_id, owner, role, content, model_id, job_id, client_message_id, parent_id, status)
          select * from (values ${with_.question ? sql`${with_.question}, ` : sql``}${answer}) as turn_messages
          where (select ok from limit_check)
        ), new_job as (
          insert into ${jobs} (id, owner, type, status, model_id, conversation_id, message_id, request_id, input)
          select ${turn.jobId}::uuid, ${turn.owner}, 'chat', 'queued', ${turn.modelId}, ${cid}::uuid, ${turn.assistantMessageId}::uuid, ${turn.requestId},
            ${JSON.stringify({ params: turn.params, ...(turn.groups?.length ? { groups: turn.groups } : {}) })}::jsonb
          where (select ok from limit_check)
        ), moved_branch as (
          update ${conversations} set updated_at = now(), active_leaf_id = ${turn.assistantMessageId}::uuid${
            with_.fallbackTitle
              ? sql`, title = case when ${conversations.title} = ${defaultConversationTitle} then ${with_.fallbackTitle} else ${conversations.title} end`
              : sql``
          }
          where ${conversations.id} = ${cid} and ${c === undefined} and (select ok from limit_check)
        )
        select ok from limit_check`);
      return result.rows[0]?.ok ? 'stored' : 'over_limit';
    } catch (err) {
      if (isUniqueViolation(err, 'messages_owner_client_id_idx')) return 'duplicate';
      throw err;
    }
  }

  async findMessageOf(owner: string, conversationId: string, id: string): Promise<MessageRow | undefined> {
    const [row] = await this.db
      .select()
      .from(messages)
      .where(and(eq(messages.owner, owner), eq(messages.conversationId, conversationId), eq(messages.id, id)));
    return row;
  }

  async findOwnMessage(owner: string, id: string): Promise<MessageRow | undefined> {
    const [row] = await this.db
      .select()
      .from(messages)
      .where(and(eq(messages.owner, owner), eq(messages.id, id)));
    return row;
  }

  async findUserMessageByClientId(owner: string, clientMessageId: string): Promise<MessageRow | undefined> {
    const [row] = await this.db
      .select()
      .from(messages)
      .where(and(eq(messages.owner, owner), eq(messages.clientMessageId, clientMessageId)));
    return row;
  }

  async findChatJob(owner: string, jobId: string): Promise<JobRow | undefined> {
    const [row] = await this.db
      .select()
      .from(jobs)
      .where(and(eq(jobs.owner, owner), eq(jobs.id, jobId), eq(jobs.type, 'chat')));
    return row;
  }

  async findMessage(id: string): Promise<MessageRow | undefined> {
    const [row] = await this.db.select().from(messages).where(eq(messages.id, id));
    return row;
  }

  /** Ends a job that never reached a worker (cancelled while waiting, or never enqueued). */
  async finishUnstarted(job: JobRow, status: 'cancelled' | 'failed', error?: { code: string; message: string }) {
    return this.db.transaction(async (tx) => {
      const updated = await tx
        .update(jobs)
        .set({ status, finishedAt: sql`now()`, error: error ?? null })
        .where(and(eq(jobs.id, job.id), inArray(jobs.status, ['queued'])))
        .returning({ id: jobs.id });
      if (updated.length === 0) return false;
      if (job.messageId) {
        await tx
          .update(messages)
          .set({ status, stopReason: status === 'cancelled' ? 'cancelled' : null })
          .where(eq(messages.id, job.messageId));
      }
      return true;
    });
  }
}
