import { and, asc, eq, lt, lte, type SQL, sql } from 'drizzle-orm';
import type { Block, ErrorInfo, Usage } from '@switchboard/contracts';
import { conversations, type Db, jobIsOpen, jobs, ledgerCte, messageColumns, type MessageRow, messages, type StoredChatTurn } from '@switchboard/server-core';

export type TurnOutcome = {
  status: 'completed' | 'cancelled' | 'failed';
  text: string;
  /** The model's thinking streamed for this answer (extended thinking). */
  reasoning?: string;
  stopReason: string | null;
  usage: Usage | null;
  error?: ErrorInfo;
  /** USD at the model's prices when answered. */
  cost?: number | null;
};

const messageStatusOf = { completed: 'complete', cancelled: 'cancelled', failed: 'failed' } as const;

/** The worker's only I/O on Postgres for chat turns. */
export class ChatTurnsRepository {
  constructor(private readonly db: Db) {}

  /**
   * Whether the job is still open (not ended, its conversation not deleted). A read, not a write: a
   * chat's row stays `queued` until its answer ends it, since nothing reads a chat job's `active`
   * (both count as open everywhere). Marking it cost Postgres a transaction per chat: a WAL record,
   * a new row version and its index entries (issue 19). Batch jobs are still marked: clients see it.
   */
  async isOpen(jobId: string): Promise<boolean> {
    const result = await this.db.execute(sql`select 1 from ${jobs} where ${jobs.id} = ${jobId} and ${jobIsOpen}`);
    return result.rows.length > 0;
  }

  /**
   * Chat turns Postgres still calls open that were created before `cutoff`, with what their queue
   * payload is rebuilt from (the user's message is the answer's parent), for the reconciler.
   */
  async openBefore(cutoff: Date, limit: number): Promise<StoredChatTurn[]> {
    return this.db
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
      .where(and(eq(jobs.type, 'chat'), jobIsOpen, lt(jobs.createdAt, cutoff)))
      .limit(limit);
  }

  async conversation(conversationId: string) {
    const [row] = await this.db.select().from(conversations).where(eq(conversations.id, conversationId));
    return row;
  }

  /**
   * Every message of the conversation up to the user's message of this turn, in order (one query);
   * the branch is picked from them by parent links (branchOf).
   */
  async history(conversationId: string, userMessageId: string): Promise<MessageRow[]> {
    const anchor = this.db.select({ position: messages.position }).from(messages).where(eq(messages.id, userMessageId));
    return this.db
      .select(messageColumns)
      .from(messages)
      .where(and(eq(messages.conversationId, conversationId), lte(messages.position, sql`(${anchor})`)))
      .orderBy(asc(messages.position));
  }

  /** Stores the compressed history of the conversation (replacing an earlier summary). */
  async storeSummary(
    conversationId: string,
    summary: { text: string; uptoMessageId: string; coversMessages: number; usage: Usage; cost: number },
  ) {
    await this.db
      .update(conversations)
      .set({
        summary: summary.text,
        summaryUptoMessageId: summary.uptoMessageId,
        summaryCovers: summary.coversMessages,
        summaryAt: sql`now()`,
        compressInputTokens: sql`${conversations.compressInputTokens} + ${summary.usage.inputTokens}`,
        compressOutputTokens: sql`${conversations.compressOutputTokens} + ${summary.usage.outputTokens}`,
        compressCost: sql`${conversations.compressCost} + ${summary.cost}`,
      })
      .where(eq(conversations.id, conversationId));
  }

  /**
   * Stores the answer and ends the job, once: a repeated finish of an ended job changes nothing.
   * One statement (atomic, one round trip): a worker finishes many answers a second. `ledger`: the
   * call's ledger rows (SpendRepository.ledgerWrite), written in the same statement either way.
   */
  async finish(jobId: string, assistantMessageId: string, outcome: TurnOutcome, ledger?: SQL): Promise<boolean> {
    const json = (value: unknown) => (value == null ? null : JSON.stringify(value));
    const content: Block[] = outcome.text ? [{ type: 'text', text: outcome.text }] : [];
    const result = await this.db.execute<{ ended: number }>(sql`
      with ${ledgerCte(ledger)}ended as (
        update ${jobs} set status = ${outcome.status}, usage = ${json(outcome.usage)}::jsonb, error = ${json(outcome.error)}::jsonb, finished_at = now()
        where ${jobs.id} = ${jobId} and ${jobIsOpen}
        returning conversation_id
      ), answer as (
        update ${messages}
        set content = ${JSON.stringify(content)}::jsonb, status = ${messageStatusOf[outcome.status]}, stop_reason = ${outcome.stopReason},
            usage = ${json(outcome.usage)}::jsonb, cost = ${outcome.cost ?? null}, reasoning = ${outcome.reasoning || null}
        where ${messages.id} = ${assistantMessageId} and exists (select 1 from ended)
      ), touched as (
        update ${conversations} set updated_at = now() where ${conversations.id} in (select conversation_id from ended)
      )
      select count(*)::int as ended from ended`);
    return (result.rows[0]?.ended ?? 0) > 0;
  }
}
