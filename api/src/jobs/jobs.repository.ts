import { Inject, Injectable } from '@nestjs/common';
import { and, asc, desc, eq, gt, gte, inArray, lt, or, sql } from 'drizzle-orm';
import type { ErrorInfo, JobStatusValue, WebhookDelivery } from '@switchboard/contracts';
import { type Database, type Db, type JobRow, jobs, webhookDeliveries } from '@switchboard/server-core';
import { DATABASE } from '../database/database.module.js';

export type NewSummarizeJob = {
  id: string;
  owner: string;
  modelId: string;
  input: Record<string, unknown>;
  idempotencyKey: string | undefined;
  /** With a key: the request's fingerprint, so a reuse of the key with another body is told apart. */
  idempotencyFingerprint: string | undefined;
  callbackUrl: string | undefined;
  requestId: string;
  /** Who submitted it, for budgets, shares and the usage ledger. */
  principalGroups?: string[];
  principalKind?: 'person' | 'client';
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
  callbackStatus: jobs.callbackStatus,
  callbackAttempts: jobs.callbackAttempts,
  modelId: jobs.modelId,
  batchId: jobs.batchId,
  customId: jobs.customId,
  inputPurgedAt: jobs.inputPurgedAt,
  resultPurgedAt: jobs.resultPurgedAt,
  // The label and metadata only, not the (possibly large) input.
  name: sql<string | null>`(${jobs.input}->>'name')`,
  metadata: sql<Record<string, unknown> | null>`(${jobs.input}->'metadata')`,
};
export type JobView = Pick<JobRow, Exclude<keyof typeof viewColumns, 'name' | 'metadata'>> & { name: string | null; metadata: Record<string, unknown> | null };
/** The view's columns in a raw statement's RETURNING, under the view's names. */
const viewReturning = sql.join(
  Object.entries(viewColumns).map(([name, column]) => sql`${column} as ${sql.identifier(name)}`),
  sql`, `,
);
type Timestamp = Date | string; // raw statements get timestamps as the driver parses them
type ReturnedJobView = Omit<JobView, 'createdAt' | 'startedAt' | 'finishedAt' | 'inputPurgedAt' | 'resultPurgedAt'> & {
  createdAt: Timestamp;
  startedAt: Timestamp | null;
  finishedAt: Timestamp | null;
  inputPurgedAt: Timestamp | null;
  resultPurgedAt: Timestamp | null;
};
const dateOrNull = (t: Timestamp | null) => (t === null ? null : new Date(t));

/** Rows per intake statement are cut at about this much JSON. */
const maxStatementChars = 8 * 1024 * 1024;

/** The only I/O of batch jobs in the API. */
@Injectable()
export class JobsRepository {
  private readonly db: Db;

  constructor(@Inject(DATABASE) database: Database) {
    this.db = database.db;
  }

  /**
   * Inserts the jobs; the jobs whose owner already used their Idempotency-Key are left out. The
   * rows travel as one JSON parameter, so the statement text is the same for any batch and building
   * it costs nothing per row (drizzle's per-value builder was a tenth of the API's CPU at 1,500
   * submissions/s). One statement per ~8 MB of rows: large documents arriving together do not make
   * one giant string.
   */
  async insertMany(batch: readonly NewSummarizeJob[]): Promise<JobView[]> {
    // Millisecond precision, like the cursor that pages through it.
    const createdAt = new Date().toISOString();
    const groups: string[][] = [[]];
    let groupChars = 0;
    for (const job of batch) {
      const row = JSON.stringify({
        id: job.id,
        owner: job.owner,
        model_id: job.modelId,
        input: job.input,
        idempotency_key: job.idempotencyKey ?? null,
        idempotency_fingerprint: job.idempotencyFingerprint ?? null,
        callback_url: job.callbackUrl ?? null,
        request_id: job.requestId,
        principal_groups: job.principalGroups ?? [],
        principal_kind: job.principalKind ?? null,
      });
      if (groupChars + row.length > maxStatementChars && groups.at(-1)!.length > 0) {
        groups.push([]);
        groupChars = 0;
      }
      groups.at(-1)!.push(row);
      groupChars += row.length;
    }
    const stored = await Promise.all(groups.map((rows) => this.insertRows(`[${rows.join(',')}]`, createdAt)));
    return stored.flat();
  }

  private async insertRows(rowsJson: string, createdAt: string): Promise<JobView[]> {
    const result = await this.db.execute<ReturnedJobView>(sql`
      insert into ${jobs} (id, owner, type, status, model_id, input, idempotency_key, idempotency_fingerprint, callback_url, request_id, progress, created_at,
        principal_groups, principal_kind)
      select r.id, r.owner, 'summarize', 'queued', r.model_id, r.input, r.idempotency_key, r.idempotency_fingerprint, r.callback_url, r.request_id, 0, ${createdAt}::timestamptz,
        array(select jsonb_array_elements_text(r.principal_groups)), r.principal_kind
      from jsonb_to_recordset(${rowsJson}::jsonb)
        as r(id uuid, owner text, model_id text, input jsonb, idempotency_key text, idempotency_fingerprint text, callback_url text, request_id text,
          principal_groups jsonb, principal_kind text)
      on conflict do nothing
      returning ${viewReturning}`);
    return result.rows.map((row) => ({
      ...row,
      createdAt: new Date(row.createdAt),
      startedAt: dateOrNull(row.startedAt),
      finishedAt: dateOrNull(row.finishedAt),
      inputPurgedAt: dateOrNull(row.inputPurgedAt),
      resultPurgedAt: dateOrNull(row.resultPurgedAt),
    }));
  }

  /** The owner's job holding this Idempotency-Key, with the fingerprint of the request that made it. */
  async findByIdempotencyKey(owner: string, key: string): Promise<(JobView & { idempotencyFingerprint: string | null }) | undefined> {
    const [row] = await this.db
      .select({ ...viewColumns, idempotencyFingerprint: jobs.idempotencyFingerprint })
      .from(jobs)
      .where(and(eq(jobs.owner, owner), eq(jobs.idempotencyKey, key), eq(jobs.type, 'summarize')));
    return row;
  }

  /** Frees an expired Idempotency-Key of one job, so the key can make a new job. */
  async releaseIdempotencyKey(id: string, key: string): Promise<void> {
    await this.db
      .update(jobs)
      .set({ idempotencyKey: null })
      .where(and(eq(jobs.id, id), eq(jobs.idempotencyKey, key)));
  }

  async find(owner: string, id: string): Promise<JobView | undefined> {
    const [row] = await this.db
      .select(viewColumns)
      .from(jobs)
      .where(and(eq(jobs.owner, owner), eq(jobs.id, id), eq(jobs.type, 'summarize')));
    return row;
  }

  async list(
    owner: string,
    opts: {
      limit: number;
      status?: JobStatusValue;
      createdAfter?: Date;
      createdBefore?: Date;
      cursor?: { createdAt: Date; id: string };
      /** Oldest first instead of newest first. */
      ascending?: boolean;
      /** Jobs whose metadata has each of these keys with this string value. */
      metadata?: Record<string, string>;
      batchId?: string;
    },
  ) {
    const filters = [eq(jobs.owner, owner), eq(jobs.type, 'summarize')];
    if (opts.status) filters.push(eq(jobs.status, opts.status));
    if (opts.createdAfter) filters.push(gte(jobs.createdAt, opts.createdAfter));
    if (opts.createdBefore) filters.push(lt(jobs.createdAt, opts.createdBefore));
    if (opts.batchId) filters.push(eq(jobs.batchId, opts.batchId));
    // Containment uses the GIN index on input->'metadata' (migration 0007).
    if (opts.metadata && Object.keys(opts.metadata).length > 0) filters.push(sql`(${jobs.input}->'metadata') @> ${JSON.stringify(opts.metadata)}::jsonb`);
    const after = opts.ascending ? gt : lt;
    if (opts.cursor) {
      const { createdAt, id } = opts.cursor;
      filters.push(or(after(jobs.createdAt, createdAt), and(eq(jobs.createdAt, createdAt), after(jobs.id, id)))!);
    }
    const order = opts.ascending ? asc : desc;
    const rows = await this.db
      .select(viewColumns)
      .from(jobs)
      .where(and(...filters))
      .orderBy(order(jobs.createdAt), order(jobs.id))
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

  /**
   * Erases a job's input (text, documents; name and metadata stay) and result now. The status,
   * usage and timestamps stay, so the job still says what happened.
   */
  async purge(id: string): Promise<JobView | undefined> {
    const [row] = await this.db
      .update(jobs)
      .set({
        input: sql`${jobs.input} - 'text' - 'documents'`,
        result: null,
        inputPurgedAt: sql`coalesce(${jobs.inputPurgedAt}, now())`,
        resultPurgedAt: sql`coalesce(${jobs.resultPurgedAt}, now())`,
      })
      .where(eq(jobs.id, id))
      .returning(viewColumns);
    return row;
  }

  /** The callback delivery attempts of a job, oldest first (at most `limit`, the latest ones). */
  async deliveries(jobId: string, limit = 200): Promise<WebhookDelivery[]> {
    const rows = await this.db
      .select({ at: webhookDeliveries.at, status: webhookDeliveries.status, durationMs: webhookDeliveries.durationMs, error: webhookDeliveries.error })
      .from(webhookDeliveries)
      .where(eq(webhookDeliveries.jobId, jobId))
      .orderBy(desc(webhookDeliveries.at), desc(webhookDeliveries.id))
      .limit(limit);
    return rows.reverse().map((r) => ({ at: r.at.toISOString(), status: r.status, durationMs: r.durationMs, ...(r.error ? { error: r.error } : {}) }));
  }

  /** A finished job's callback is owed again (a client's redelivery); undefined when the job has none or is still open. */
  async owedAgain(id: string): Promise<JobView | undefined> {
    const [row] = await this.db
      .update(jobs)
      .set({ callbackStatus: 'pending' })
      .where(and(eq(jobs.id, id), sql`${jobs.callbackUrl} is not null`, inArray(jobs.status, ['completed', 'failed', 'cancelled'])))
      .returning(viewColumns);
    return row;
  }
}
