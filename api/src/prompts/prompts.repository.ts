import { Inject, Injectable } from '@nestjs/common';
import { and, asc, eq, sql } from 'drizzle-orm';
import { type Database, type Db, type PromptRow, prompts } from '@switchboard/server-core';
import { DATABASE } from '../database/database.module.js';

export type PromptPatch = Partial<Pick<PromptRow, 'title' | 'systemPrompt' | 'tags' | 'locale'>>;

/** The only I/O of people's own prompts. */
@Injectable()
export class PromptsRepository {
  private readonly db: Db;

  constructor(@Inject(DATABASE) database: Database) {
    this.db = database.db;
  }

  list(owner: string): Promise<PromptRow[]> {
    return this.db.select().from(prompts).where(eq(prompts.owner, owner)).orderBy(asc(prompts.createdAt), asc(prompts.id));
  }

  async insert(row: typeof prompts.$inferInsert): Promise<PromptRow> {
    const [created] = await this.db.insert(prompts).values(row).returning();
    return created!;
  }

  async update(owner: string, id: string, patch: PromptPatch): Promise<PromptRow | undefined> {
    const [row] = await this.db
      .update(prompts)
      .set({ ...patch, updatedAt: sql`now()` })
      .where(and(eq(prompts.owner, owner), eq(prompts.id, id)))
      .returning();
    return row;
  }

  async delete(owner: string, id: string): Promise<boolean> {
    const rows = await this.db
      .delete(prompts)
      .where(and(eq(prompts.owner, owner), eq(prompts.id, id)))
      .returning({ id: prompts.id });
    return rows.length > 0;
  }
}
