import { Inject, Injectable } from '@nestjs/common';
import { and, asc, eq, gt, inArray, sql } from 'drizzle-orm';
import type { JobStatusValue } from '@switchboard/contracts';
import { type BatchCounts, type BatchRow, batches, type Database, type Db, jobs } from '@switchboard/server-core';
import { DATABASE } from '../database/database.module.js';

/** One stored item: a summarize job of the batch. */
export type NewBatchItem = { id: string; modelId: string; customId: string; input: Record<string, unknown> };
export type NewBatch = {
  id: string;
  owner: string;
  metadata: Record<string, unknown> | undefined;
  callbackUrl: string | undefined;
  idempotencyKey: string | undefined;
  idempotencyFingerprint: string | undefined;
  requestId: string;
  /** Who submitted it, as budgets and shares see them (stored on every item, as for single jobs). */
  principalGroups: readonly string[];
  principalKind: 'person' | 'client';
  items: readonly NewBatchItem[];
};
/** What a results line needs of an item. */
export type BatchResultRow = {
  index: number;
  id: string;
  customId: string | null;
  status: JobStatusValue;
  result: { summary?: string } | null;
  usage: { inputTokens: number; outputTokens: number; cacheReadTokens?: number; cacheWriteTokens?: number; costUsd?: number } | null;
  error: { code: string; message: string } | null;
};

/** Rows per statement are cut at about this much JSON (as for single jobs). */
const maxStatementChars = 8 * 1024 * 1024;

/** The only I/O of batches in the API. */
@Injectable()
export class BatchesRepository {
  private readonly db: Db;

  constructor(@Inject(DATABASE) database: Database) {
    this.db = database.db;
  }

  /**
   * Stores the batch and every item as a job in one transaction: all of them or none. The items
   * travel as JSON parameters (one statement per ~8 MB). Undefined when the owner already used the
   * Idempotency-Key (a concurrent request won).
   */
  async insert(batch: NewBatch): Promise<BatchRow | undefined> {
    return this.db.transaction(async (tx) => {
      const [row] = await tx
        .insert(batches)
        .values({
          id: batch.id,
          owner: batch.owner,
          itemCount: batch.items.length,
          metadata: batch.metadata ?? null,
          callbackUrl: batch.callbackUrl ?? null,
          idempotencyKey: batch.idempotencyKey ?? null,
          idempotencyFingerprint: batch.idempotencyFingerprint ?? null,
          requestId: batch.requestId,
        })
        .onConflictDoNothing()
        .returning();
      if (!row) return undefined;
      const createdAt = row.createdAt.toISOString();
      let group: string[] = [];
      let chars = 0;
      const flush = async () => {
        if (group.length === 0) return;
        await tx.execute(sql`
          insert into ${jobs} (id, owner, type, status, model_id, input, request_id, progress, created_at, batch_id, batch_index, custom_id, principal_groups, principal_kind)
          select r.id, ${batch.owner}, 'summarize', 'queued', r.model_id, r.input, ${batch.requestId}, 0, ${createdAt}::timestamptz, ${batch.id}::uuid, r.batch_index, r.custom_id,
            array(select jsonb_array_elements_text(${JSON.stringify(batch.principalGroups)}::jsonb)), ${batch.principalKind}
          from jsonb_to_recordset(${`[${group.join(',')}]`}::jsonb) as r(id uuid, model_id text, input jsonb, batch_index integer, custom_id text)`);
        group = [];
        chars = 0;
      };
      for (const [index, item] of batch.items.entries()) {
        const json = JSON.stringify({ id: item.id, model_id: item.modelId, input: item.input, batch_index: index, custom_id: item.customId });
        if (chars + json.length > maxStatementChars) await flush();
        group.push(json);
        chars += json.length;
      }
      await flush();
      return row;
    });
  }

  async find(owner: string, id: string): Promise<BatchRow | undefined> {
    const [row] = await this.db
      .select()
      .from(batches)
      .where(and(eq(batches.owner, owner), eq(batches.id, id)));
    return row;
  }

  async findByIdempotencyKey(owner: string, key: string): Promise<BatchRow | undefined> {
    const [row] = await this.db
      .select()
      .from(batches)
      .where(and(eq(batches.owner, owner), eq(batches.idempotencyKey, key)));
    return row;
  }

  async releaseIdempotencyKey(id: string, key: string): Promise<void> {
    await this.db
      .update(batches)
      .set({ idempotencyKey: null })
      .where(and(eq(batches.id, id), eq(batches.idempotencyKey, key)));
  }

  /** Items by status (one indexed GROUP BY). */
  async counts(id: string): Promise<Partial<BatchCounts>> {
    const rows = await this.db
      .select({ status: jobs.status, count: sql<number>`count(*)::int` })
      .from(jobs)
      .where(eq(jobs.batchId, id))
      .groupBy(jobs.status);
    return Object.fromEntries(rows.map((r) => [r.status, Number(r.count)]));
  }

  /** Item ids, in item order, for enqueueing. */
  async itemIds(id: string, afterIndex: number, limit: number): Promise<{ index: number; id: string }[]> {
    return this.db
      .select({ index: sql<number>`${jobs.batchIndex}`, id: jobs.id })
      .from(jobs)
      .where(and(eq(jobs.batchId, id), gt(jobs.batchIndex, afterIndex)))
      .orderBy(asc(jobs.batchIndex))
      .limit(limit);
  }

  /** One page of results after item `afterIndex` (keyset on the batch's item index). */
  async results(id: string, afterIndex: number, limit: number): Promise<BatchResultRow[]> {
    const rows = await this.db
      .select({
        index: sql<number>`${jobs.batchIndex}`,
        id: jobs.id,
        customId: jobs.customId,
        status: jobs.status,
        result: jobs.result,
        usage: jobs.usage,
        error: jobs.error,
      })
      .from(jobs)
      .where(and(eq(jobs.batchId, id), gt(jobs.batchIndex, afterIndex)))
      .orderBy(asc(jobs.batchIndex))
      .limit(limit);
    return rows as BatchResultRow[];
  }

  /**
   * Cancels the batch's open items and the batch, in one transaction. Returns the items that were
   * running (their workers are told to stop) and the batch row when this call ended it.
   */
  async cancel(id: string): Promise<{ active: string[]; batch: BatchRow | undefined }> {
    return this.db.transaction(async (tx) => {
      const ended = await tx
        .update(jobs)
        .set({ status: 'cancelled', error: { code: 'cancelled', message: 'Cancelled with its batch' }, finishedAt: sql`now()` })
        .where(and(eq(jobs.batchId, id), inArray(jobs.status, ['queued', 'active'])))
        .returning({ id: jobs.id, startedAt: jobs.startedAt });
      const [batch] = await tx
        .update(batches)
        .set({ status: 'cancelled', finishedAt: sql`now()`, callbackStatus: sql`case when ${batches.callbackUrl} is not null then 'pending' end` })
        .where(and(eq(batches.id, id), inArray(batches.status, ['queued', 'active'])))
        .returning();
      return { active: ended.filter((j) => j.startedAt !== null).map((j) => j.id), batch };
    });
  }
}
