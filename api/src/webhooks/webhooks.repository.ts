import { Inject, Injectable } from '@nestjs/common';
import { eq, sql } from 'drizzle-orm';
import { type Database, type Db, type WebhookSecretRow, webhookSecrets } from '@switchboard/server-core';
import { DATABASE } from '../database/database.module.js';

/** The only I/O of callback signing secrets. */
@Injectable()
export class WebhooksRepository {
  private readonly db: Db;

  constructor(@Inject(DATABASE) database: Database) {
    this.db = database.db;
  }

  /** The owner's secret, created with `fresh` when there is none yet. */
  async getOrCreate(owner: string, fresh: string): Promise<WebhookSecretRow> {
    await this.db.insert(webhookSecrets).values({ owner, secret: fresh }).onConflictDoNothing();
    const [row] = await this.db.select().from(webhookSecrets).where(eq(webhookSecrets.owner, owner));
    return row!;
  }

  async find(owner: string): Promise<WebhookSecretRow | undefined> {
    const [row] = await this.db.select().from(webhookSecrets).where(eq(webhookSecrets.owner, owner));
    return row;
  }

  async replace(owner: string, secret: string): Promise<WebhookSecretRow> {
    const [row] = await this.db
      .insert(webhookSecrets)
      .values({ owner, secret })
      .onConflictDoUpdate({ target: webhookSecrets.owner, set: { secret, createdAt: sql`now()` } })
      .returning();
    return row!;
  }
}
