import { Inject, Injectable } from '@nestjs/common';
import { sql } from 'drizzle-orm';
import { conversations, type Database, type Db, jobs, messages } from '@switchboard/server-core';
import { DATABASE } from '../database/database.module.js';

/** What per-principal limits read from Postgres: the truth, so no counter can leak. */
@Injectable()
export class LimitsRepository {
  private readonly db: Db;

  constructor(@Inject(DATABASE) database: Database) {
    this.db = database.db;
  }

  /** Bytes the user's messages and jobs take in Postgres (as stored, i.e. after compression). */
  async storedBytes(owner: string): Promise<number> {
    return (await this.storedBytesOf([owner]))[0]!;
  }

  /** storedBytes of several users in one statement, in the order given. */
  async storedBytesOf(owners: readonly string[]): Promise<number[]> {
    const result = await this.db.execute<{ owner: string; bytes: string | number | null }>(sql`
      select o.owner,
        coalesce((select sum(pg_column_size(m.content)) from ${messages} m
                  where m.conversation_id in (select c.id from ${conversations} c where c.owner = o.owner)), 0)
      + coalesce((select sum(coalesce(pg_column_size(j.input), 0) + coalesce(pg_column_size(j.result), 0)) from ${jobs} j
                  where j.owner = o.owner), 0) as bytes
      from unnest(${sql.param(owners)}::text[]) as o(owner)`);
    const bytes = new Map(result.rows.map((r) => [r.owner, Number(r.bytes ?? 0)]));
    return owners.map((o) => bytes.get(o) ?? 0);
  }
}
