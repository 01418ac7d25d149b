import { Inject, Injectable } from '@nestjs/common';
import { and, desc, eq, inArray, lt, or, sql } from 'drizzle-orm';
import type { ErrorInfo, JobStatusValue } from '@switchboard/contracts';
import { type Database, type Db, type JobRow, jobs } from '@switchboard/server-core';
import { DATABASE } from '../database/database.module.js';

export type NewSummarizeJob = {
  id: string;
  owner: string;
  modelId: string;
  input: Record<string, unknown>;
  idempotencyKey: string | undefined;
  callbackUrl: string | undefined;
  requestId: string;
};

/** Everything a job view needs: the (possibly large) input stays in the database. */
const viewColumns = {
  id: jobs.id,
  owner: jobs.owner,
  status: jobs.status,
  progress: jobs.progress,
  result: jobs.result,
  usage: jobs.usage,
  error: jobs.error,
  createdAt: jobs.createdAt,
  startedAt: jobs.startedAt,
  finishedAt: jobs.finishedAt,
  callbackUrl: jobs.callbackUrl,
};
export type JobView = Pick<JobRow, keyof typeof viewColumns>;

/** The only I/O of batch jobs in the API. */
@Injectable()
export class JobsRepository {
  private readonly db: Db;

  constructor(@Inject(DATABASE) database: Database) {
    this.db = database.db;
  }

  /** Inserts the jobs in one statement; the jobs whose owner already used their Idempotency-Key are left out. */
  async insertMany(batch: readonly NewSummarizeJob[]): Promise<JobView[]> {
    // Millisecond precision, like the cursor that pages through it.
    const createdAt = new Date();
    return this.db
      .insert(jobs)
      .values(
        batch.map((job) => ({
          id: job.id,
          owner: job.owner,
          type: 'summarize' as const,
          status: 'queued' as const,
          modelId: job.modelId,
          input: job.input,
          idempotencyKey: job.idempotencyKey ?? null,
          callbackUrl: job.callbackUrl ?? null,
          requestId: job.requestId,
          progress: 0,
          createdAt,
        })),
      )
      .onConflictDoNothing()
      .returning(viewColumns);
  }

  async findByIdempotencyKey(owner: string, key: string): Promise<JobView | undefined> {
    const [row] = await this.db
      .select(viewColumns)
      .from(jobs)
      .where(and(eq(jobs.owner, owner), eq(jobs.idempotencyKey, key), eq(jobs.type, 'summarize')));
    return row;
  }

  async find(owner: string, id: string): Promise<JobView | undefined> {
    const [row] = await this.db
      .select(viewColumns)
      .from(jobs)
      .where(and(eq(jobs.owner, owner), eq(jobs.id, id), eq(jobs.type, 'summarize')));
    return row;
  }

  async list(owner: string, opts: { limit: number; status?: JobStatusValue; cursor?: { createdAt: Date; id: string } }) {
    const filters = [eq(jobs.owner, owner), eq(jobs.type, 'summarize')];
    if (opts.status) filters.push(eq(jobs.status, opts.status));
    if (opts.cursor) {
      const { createdAt, id } = opts.cursor;
      filters.push(or(lt(jobs.createdAt, createdAt), and(eq(jobs.createdAt, createdAt), lt(jobs.id, id)))!);
    }
    const rows = await this.db
      .select(viewColumns)
      .from(jobs)
      .where(and(...filters))
      .orderBy(desc(jobs.createdAt), desc(jobs.id))
      .limit(opts.limit + 1);
    return { rows: rows.slice(0, opts.limit), hasMore: rows.length > opts.limit };
  }

  /**
   * Ends a queued or running job as cancelled (or failed); undefined when it had already ended.
   * A callback becomes owed in the same statement, so a crash cannot lose it.
   */
  async finish(id: string, status: 'cancelled' | 'failed', error?: ErrorInfo): Promise<JobView | undefined> {
    const [row] = await this.db
      .update(jobs)
      .set({
        status,
        error: error ?? null,
        finishedAt: sql`now()`,
        callbackStatus: sql`case when ${jobs.callbackUrl} is not null then 'pending' end`,
      })
      .where(and(eq(jobs.id, id), inArray(jobs.status, ['queued', 'active'])))
      .returning(viewColumns);
    return row;
  }
}
