import { Inject, Injectable } from '@nestjs/common';
import { and, desc, eq, lt, type SQL } from 'drizzle-orm';
import { type AuditRow, auditLog, type Database, type Db } from '@switchboard/server-core';
import { DATABASE } from '../database/database.module.js';

export type NewAuditEntry = { actor: string; action: string; target?: string; before?: unknown; after?: unknown; details?: unknown };

/** The only I/O of the audit log: append and read (the table refuses updates and deletes). */
@Injectable()
export class AuditRepository {
  private readonly db: Db;

  constructor(@Inject(DATABASE) database: Database) {
    this.db = database.db;
  }

  async append(e: NewAuditEntry): Promise<void> {
    await this.db.insert(auditLog).values({
      actor: e.actor,
      action: e.action,
      target: e.target ?? null,
      before: e.before ?? null,
      after: e.after ?? null,
      details: e.details ?? null,
    });
  }

  /** Newest first; `beforeId` pages on. */
  async list(opts: { limit: number; beforeId?: number; action?: string }): Promise<{ rows: AuditRow[]; hasMore: boolean }> {
    const where: SQL[] = [];
    if (opts.beforeId !== undefined) where.push(lt(auditLog.id, opts.beforeId));
    if (opts.action) where.push(eq(auditLog.action, opts.action));
    const rows = await this.db
      .select()
      .from(auditLog)
      .where(where.length ? and(...where) : undefined)
      .orderBy(desc(auditLog.id))
      .limit(opts.limit + 1);
    return { rows: rows.slice(0, opts.limit), hasMore: rows.length > opts.limit };
  }
}
