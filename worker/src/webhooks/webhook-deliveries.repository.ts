import { randomBytes } from 'node:crypto';
import { and, eq, isNotNull, lt } from 'drizzle-orm';
import type { RedisClient as Redis } from '@switchboard/server-core';
import { type Db, type JobRow, jobs, previousWebhookSecretKey, webhookSecrets } from '@switchboard/server-core';

/** The worker's only I/O for job callbacks: Postgres, and Redis for a rotated secret's grace period. */
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

  /** The owner's signing secret; created here when the owner never asked for one. */
  async secret(owner: string): Promise<string> {
    await this.db
      .insert(webhookSecrets)
      .values({ owner, secret: `whsec_${randomBytes(32).toString('base64url')}` })
      .onConflictDoNothing();
    const [row] = await this.db.select({ secret: webhookSecrets.secret }).from(webhookSecrets).where(eq(webhookSecrets.owner, owner));
    return row!.secret;
  }

  /** Jobs that finished before `cutoff` and still owe their callback (for the reconciler). */
  async owedBefore(cutoff: Date, limit: number): Promise<{ id: string }[]> {
    return this.db
      .select({ id: jobs.id })
      .from(jobs)
      .where(and(eq(jobs.callbackStatus, 'pending'), isNotNull(jobs.finishedAt), lt(jobs.finishedAt, cutoff)))
      .limit(limit);
  }

  async mark(jobId: string, status: 'delivered' | 'failed'): Promise<void> {
    await this.db.update(jobs).set({ callbackStatus: status }).where(eq(jobs.id, jobId));
  }
}
