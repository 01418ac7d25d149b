import { randomBytes } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { type Db, type JobRow, jobs, webhookSecrets } from '@switchboard/server-core';

/** The worker's only I/O on Postgres for job callbacks. */
export class WebhookDeliveriesRepository {
  constructor(private readonly db: Db) {}

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

  async mark(jobId: string, status: 'delivered' | 'failed'): Promise<void> {
    await this.db.update(jobs).set({ callbackStatus: status }).where(eq(jobs.id, jobId));
  }
}
