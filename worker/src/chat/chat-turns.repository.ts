import { and, asc, eq, inArray, lte, sql } from 'drizzle-orm';
import type { Block, ErrorInfo, Usage } from '@switchboard/contracts';
import { conversations, type Db, jobs, messageColumns, type MessageRow, messages } from '@switchboard/server-core';

export type TurnOutcome = {
  status: 'completed' | 'cancelled' | 'failed';
  text: string;
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

  /** Marks the job active; false when it already ended (cancelled while waiting, or done). */
  async markActive(jobId: string): Promise<boolean> {
    const rows = await this.db
      .update(jobs)
      .set({ status: 'active', startedAt: sql`coalesce(${jobs.startedAt}, now())` })
      .where(and(eq(jobs.id, jobId), inArray(jobs.status, ['queued', 'active'])))
      .returning({ id: jobs.id });
    return rows.length > 0;
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

  /** Stores the answer and ends the job, once: a repeated finish of an ended job changes nothing. */
  async finish(jobId: string, assistantMessageId: string, outcome: TurnOutcome): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      const ended = await tx
        .update(jobs)
        .set({
          status: outcome.status,
          usage: outcome.usage,
          error: outcome.error ?? null,
          finishedAt: sql`now()`,
        })
        .where(and(eq(jobs.id, jobId), inArray(jobs.status, ['queued', 'active'])))
        .returning({ conversationId: jobs.conversationId });
      if (ended.length === 0) return false;
      const content: Block[] = outcome.text ? [{ type: 'text', text: outcome.text }] : [];
      await tx
        .update(messages)
        .set({
          content,
          status: messageStatusOf[outcome.status],
          stopReason: outcome.stopReason,
          usage: outcome.usage,
          cost: outcome.cost ?? null,
        })
        .where(eq(messages.id, assistantMessageId));
      await tx.update(conversations).set({ updatedAt: sql`now()` }).where(eq(conversations.id, ended[0]!.conversationId!));
      return true;
    });
  }
}
