import { and, eq, inArray, isNull, lt, sql } from 'drizzle-orm';
import type { PgUpdateSetSource } from 'drizzle-orm/pg-core';
import type { ErrorInfo, JobDocument, Usage } from '@switchboard/contracts';
import { batches, type Db, type JobRow, jobIsOpen, jobs } from '@switchboard/server-core';

/** What the API stored of the request (the callbackUrl and model live in their own columns). */
export type StoredSummarizeInput = {
  text?: string;
  documents?: JobDocument[];
  instructions?: string;
  maxWords?: number;
  metadata?: Record<string, unknown>;
};

/** Usage as stored on a job: tokens, and the cost at the catalog's prices. */
type JobUsage = Usage & { costUsd?: number };
export type SummarizeOutcome =
  | { status: 'completed'; summary: string; usage: JobUsage }
  | { status: 'failed'; error: ErrorInfo; usage?: JobUsage | null }
  | { status: 'cancelled'; usage?: JobUsage | null };

const live = ['queued', 'active'] as const;

/** The worker's only I/O on Postgres for summarize jobs. */
export class SummarizeJobsRepository {
  constructor(readonly db: Db) {}

  async load(
    jobId: string,
  ): Promise<Pick<JobRow, 'id' | 'status' | 'modelId' | 'owner' | 'principalGroups' | 'principalKind'> & { input: StoredSummarizeInput | null } | undefined> {
    const [row] = await this.db
      .select({
        id: jobs.id,
        status: jobs.status,
        modelId: jobs.modelId,
        owner: jobs.owner,
        input: jobs.input,
        principalGroups: jobs.principalGroups,
        principalKind: jobs.principalKind,
      })
      .from(jobs)
      .where(and(eq(jobs.id, jobId), eq(jobs.type, 'summarize')));
    return row as never;
  }

  /** Jobs Postgres still calls open that were created before `cutoff` (for the reconciler). */
  async openBefore(cutoff: Date, limit: number): Promise<{ id: string; owner: string; requestId: string | null }[]> {
    return this.db
      .select({ id: jobs.id, owner: jobs.owner, requestId: jobs.requestId })
      .from(jobs)
      .where(and(eq(jobs.type, 'summarize'), jobIsOpen, lt(jobs.createdAt, cutoff)))
      .limit(limit);
  }

  async status(jobId: string): Promise<JobRow['status'] | undefined> {
    const [row] = await this.db.select({ status: jobs.status }).from(jobs).where(eq(jobs.id, jobId));
    return row?.status;
  }

  /** false when the job already ended (cancelled while waiting, or done). */
  async markActive(jobId: string): Promise<boolean> {
    const rows = await this.db
      .update(jobs)
      .set({ status: 'active', startedAt: sql`coalesce(${jobs.startedAt}, now())` })
      .where(and(eq(jobs.id, jobId), inArray(jobs.status, live)))
      .returning({ id: jobs.id });
    return rows.length > 0;
  }

  /** Progress only rises, even when a chunk is counted again after a retry or a Redis loss. */
  async raiseProgress(jobId: string, percent: number): Promise<void> {
    await this.db
      .update(jobs)
      .set({ progress: sql`greatest(coalesce(${jobs.progress}, 0), ${Math.min(99, Math.floor(percent))})` })
      .where(and(eq(jobs.id, jobId), inArray(jobs.status, live)));
  }

  /**
   * Ends the job once (a repeated finish changes nothing) and, when it has a callbackUrl, marks
   * the callback owed in the same statement. Returns whether a callback must now be queued.
   */
  async finish(jobId: string, outcome: SummarizeOutcome): Promise<{ ended: boolean; callback: boolean; batchId: string | null }> {
    const rows = await this.db
      .update(jobs)
      .set({
        status: outcome.status,
        result: outcome.status === 'completed' ? { summary: outcome.summary } : null,
        usage: outcome.usage ?? null,
        error: outcome.status === 'failed' ? outcome.error : outcome.status === 'cancelled' ? { code: 'cancelled', message: 'Cancelled by the client' } : null,
        progress: outcome.status === 'completed' ? 100 : sql`${jobs.progress}`,
        finishedAt: sql`now()`,
        callbackStatus: sql`case when ${jobs.callbackUrl} is not null then 'pending' end`,
      })
      .where(and(eq(jobs.id, jobId), inArray(jobs.status, live)))
      .returning({ callbackUrl: jobs.callbackUrl, batchId: jobs.batchId });
    return { ended: rows.length > 0, callback: Boolean(rows[0]?.callbackUrl), batchId: rows[0]?.batchId ?? null };
  }

  /**
   * Ends the batch when none of its items is open any more: one guarded statement, so of items
   * ending at the same time exactly one ends the batch. True when a batch callback is now owed.
   */
  async finishBatchIfDone(batchId: string): Promise<boolean> {
    const rows = await this.db
      .update(batches)
      .set({ status: 'completed', finishedAt: sql`now()`, callbackStatus: sql`case when ${batches.callbackUrl} is not null then 'pending' end` })
      .where(
        and(
          eq(batches.id, batchId),
          inArray(batches.status, ['queued', 'active']),
          sql`not exists (select 1 from ${jobs} where ${jobs.batchId} = ${batchId} and ${jobIsOpen})`,
        ),
      )
      .returning({ callbackUrl: batches.callbackUrl });
    return Boolean(rows[0]?.callbackUrl);
  }

  /** Batches still open that were created before `cutoff` (the reconciler ends those whose items all ended). */
  async openBatchesBefore(cutoff: Date, limit: number): Promise<{ id: string }[]> {
    return this.db
      .select({ id: batches.id })
      .from(batches)
      .where(and(inArray(batches.status, ['queued', 'active']), lt(batches.createdAt, cutoff)))
      .limit(limit);
  }

  /** Retention: erases the text and documents of up to `limit` jobs that ended before `cutoff`; how many. */
  purgeInputsEndedBefore(cutoff: Date, limit: number): Promise<number> {
    return this.purgeEndedBefore(cutoff, limit, jobs.inputPurgedAt, {
      input: sql`${jobs.input} - 'text' - 'documents'`,
      inputPurgedAt: sql`now()`,
    });
  }

  /** Retention: erases the results of up to `limit` jobs that ended before `cutoff`; how many. */
  purgeResultsEndedBefore(cutoff: Date, limit: number): Promise<number> {
    return this.purgeEndedBefore(cutoff, limit, jobs.resultPurgedAt, { result: null, resultPurgedAt: sql`now()` });
  }

  private async purgeEndedBefore(
    cutoff: Date,
    limit: number,
    purgedAt: typeof jobs.inputPurgedAt | typeof jobs.resultPurgedAt,
    erase: PgUpdateSetSource<typeof jobs>,
  ): Promise<number> {
    const due = this.db
      .select({ id: jobs.id })
      .from(jobs)
      .where(and(eq(jobs.type, 'summarize'), isNull(purgedAt), lt(jobs.finishedAt, cutoff)))
      .limit(limit);
    const rows = await this.db.update(jobs).set(erase).where(inArray(jobs.id, due)).returning({ id: jobs.id });
    return rows.length;
  }
}
