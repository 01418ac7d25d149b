import { and, eq, inArray, lt, sql } from 'drizzle-orm';
import type { ErrorInfo, JobDocument, Usage } from '@switchboard/contracts';
import { type Db, type JobRow, jobs } from '@switchboard/server-core';

/** What the API stored of the request (the callbackUrl and model live in their own columns). */
export type StoredSummarizeInput = {
  text?: string;
  documents?: JobDocument[];
  instructions?: string;
  maxWords?: number;
  metadata?: Record<string, unknown>;
};

export type SummarizeOutcome =
  | { status: 'completed'; summary: string; usage: Usage }
  | { status: 'failed'; error: ErrorInfo; usage?: Usage | null }
  | { status: 'cancelled'; usage?: Usage | null };

const live = ['queued', 'active'] as const;

/** The worker's only I/O on Postgres for summarize jobs. */
export class SummarizeJobsRepository {
  constructor(readonly db: Db) {}

  async load(jobId: string): Promise<Pick<JobRow, 'id' | 'status' | 'modelId' | 'owner'> & { input: StoredSummarizeInput | null } | undefined> {
    const [row] = await this.db
      .select({ id: jobs.id, status: jobs.status, modelId: jobs.modelId, owner: jobs.owner, input: jobs.input })
      .from(jobs)
      .where(and(eq(jobs.id, jobId), eq(jobs.type, 'summarize')));
    return row as never;
  }

  /** Jobs Postgres still calls open that were created before `cutoff` (for the reconciler). */
  async openBefore(cutoff: Date, limit: number): Promise<{ id: string; owner: string; requestId: string | null }[]> {
    return this.db
      .select({ id: jobs.id, owner: jobs.owner, requestId: jobs.requestId })
      .from(jobs)
      .where(and(eq(jobs.type, 'summarize'), inArray(jobs.status, live), lt(jobs.createdAt, cutoff)))
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
  async finish(jobId: string, outcome: SummarizeOutcome): Promise<{ ended: boolean; callback: boolean }> {
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
      .returning({ callbackUrl: jobs.callbackUrl });
    return { ended: rows.length > 0, callback: Boolean(rows[0]?.callbackUrl) };
  }
}
