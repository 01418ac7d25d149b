import { randomBytes } from 'node:crypto';
import { and, eq, isNotNull, lt, sql } from 'drizzle-orm';
import type { RedisClient as Redis } from '@switchboard/server-core';
import { type BatchCounts, type BatchRow, batches, type Db, type JobRow, jobs, previousWebhookSecretKey, webhookDeliveries, webhookSecrets } from '@switchboard/server-core';

/** The worker's only I/O for callbacks: Postgres, and Redis for a rotated secret's grace period. */
export class WebhookDeliveriesRepository {
  constructor(
    private readonly db: Db,
    private readonly redis?: Redis,
    private readonly queuePrefix = '{sb}',
  ) {}

  /** The current secret, then the previous one while its grace period after a rotation lasts. */
  async secrets(owner: string): Promise<string[]> {
    const [current, previous] = await Promise.all([
      this.secret(owner),
      this.redis ? this.redis.get(previousWebhookSecretKey(this.queuePrefix, owner)).catch(() => null) : null,
    ]);
    return previous && previous !== current ? [current, previous] : [current];
  }

  async job(jobId: string): Promise<JobRow | undefined> {
    const [row] = await this.db.select().from(jobs).where(eq(jobs.id, jobId));
    return row;
  }

  async batch(batchId: string): Promise<{ row: BatchRow; counts: Partial<BatchCounts> } | undefined> {
    const [row] = await this.db.select().from(batches).where(eq(batches.id, batchId));
    if (!row) return undefined;
    const counts = await this.db
      .select({ status: jobs.status, count: sql<number>`count(*)::int` })
      .from(jobs)
      .where(eq(jobs.batchId, batchId))
      .groupBy(jobs.status);
    return { row, counts: Object.fromEntries(counts.map((c) => [c.status, Number(c.count)])) };
  }

  /** The owner's signing secret; created here when the owner never asked for one. */
  async secret(owner: string): Promise<string> {
    await this.db
      .insert(webhookSecrets)
      .values({ owner, secret: `whsec_${randomBytes(32).toString('base64url')}` })
      .onConflictDoNothing();
    const [row] = await this.db.select({ secret: webhookSecrets.secret }).from(webhookSecrets).where(eq(webhookSecrets.owner, owner));
    return row!.secret;
  }

  /** Records one attempt in the delivery log and counts it on the job or batch. */
  async logAttempt(target: { jobId?: string; batchId?: string }, attempt: { status: number | null; durationMs: number; error?: string }): Promise<void> {
    await this.db.insert(webhookDeliveries).values({
      jobId: target.jobId ?? null,
      batchId: target.batchId ?? null,
      status: attempt.status,
      durationMs: attempt.durationMs,
      error: attempt.error?.slice(0, 500) ?? null,
    });
    if (target.jobId) await this.db.update(jobs).set({ callbackAttempts: sql`${jobs.callbackAttempts} + 1` }).where(eq(jobs.id, target.jobId));
    else if (target.batchId) await this.db.update(batches).set({ callbackAttempts: sql`${batches.callbackAttempts} + 1` }).where(eq(batches.id, target.batchId));
  }

  /** Jobs that finished before `cutoff` and still owe their callback (for the reconciler). */
  async owedBefore(cutoff: Date, limit: number): Promise<{ id: string }[]> {
    return this.db
      .select({ id: jobs.id })
      .from(jobs)
      .where(and(eq(jobs.callbackStatus, 'pending'), isNotNull(jobs.finishedAt), lt(jobs.finishedAt, cutoff)))
      .limit(limit);
  }

  /** Batches that ended before `cutoff` and still owe their callback (for the reconciler). */
  async owedBatchesBefore(cutoff: Date, limit: number): Promise<{ id: string }[]> {
    return this.db
      .select({ id: batches.id })
      .from(batches)
      .where(and(eq(batches.callbackStatus, 'pending'), isNotNull(batches.finishedAt), lt(batches.finishedAt, cutoff)))
      .limit(limit);
  }

  async mark(jobId: string, status: 'delivered' | 'failed'): Promise<void> {
    await this.db.update(jobs).set({ callbackStatus: status }).where(eq(jobs.id, jobId));
  }

  async markBatch(batchId: string, status: 'delivered' | 'failed'): Promise<void> {
    await this.db.update(batches).set({ callbackStatus: status }).where(eq(batches.id, batchId));
  }
}
