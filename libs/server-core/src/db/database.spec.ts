import { randomUUID } from 'node:crypto';
import { and, eq, lt, sql } from 'drizzle-orm';
import { createTestDatabase } from '@switchboard/testing';
import { scrubRequestData } from '../logger.js';
import { catalogWarmUp, type Database, openDatabase, writeWarmUp } from './database.js';
import { conversations, jobIsOpen, jobs, messages, schema } from './schema.js';

describe('openDatabase on PostgreSQL (real Postgres)', () => {
  let dropDb: () => Promise<void>;
  let database: Database;
  beforeAll(async () => {
    const created = await createTestDatabase();
    dropDb = created.drop;
    database = await openDatabase({ databaseUrl: created.url, dataDir: '/tmp', poolSize: 1, migrate: true });
  });
  afterAll(async () => {
    await database.close();
    await dropDb();
  });

  it('prepares a parameterised statement once per connection and reuses it', async () => {
    const byId = (id: string) => database.db.select({ id: conversations.id }).from(conversations).where(eq(conversations.id, id));
    await byId('00000000-0000-4000-8000-000000000001');
    await byId('00000000-0000-4000-8000-000000000002');
    // One connection in the pool: this query runs on the one that prepared the statement above.
    const { rows } = await database.db.$client.query<{ statement: string }>('select statement from pg_prepared_statements');
    const selects = rows.filter((r) => r.statement.includes('from "conversations" where "conversations"."id" = $1'));
    expect(selects).toHaveLength(1);
  });

  it("scrubs a failed statement's parameters (a user's text) out of its error's message and stack, keeping its class", async () => {
    const secret = 'the user wrote this in confidence';
    const err = await database.db
      .insert(messages)
      .values({ id: '00000000-0000-4000-8000-000000000009', conversationId: '00000000-0000-4000-8000-00000000000a', role: 'user', content: [{ type: 'text', text: secret }] })
      .then(
        () => undefined,
        (e: unknown) => e as Error,
      );
    expect(err?.message).toContain(secret); // the driver's error quotes the values: a foreign key fails here
    const Class = err!.constructor;
    const scrubbed = scrubRequestData(err!);
    expect(scrubbed).toBeInstanceOf(Class);
    expect(scrubbed.message).toMatch(/^Failed query: insert into "messages"/);
    expect(`${scrubbed.message}\n${scrubbed.stack}\n${JSON.stringify(scrubbed)}`).not.toContain(secret);
  });

  it('warms pooled connections at boot: plans a read of every table and makes the writes of a chat, rolled back', async () => {
    // The warm-up is best effort at boot (a failure is ignored there): here it must run cleanly.
    const results = (await database.db.$client.query(catalogWarmUp)) as unknown as { command: string; rowCount: number }[];
    expect(results).toHaveLength(Object.keys(schema).length);
    expect(results.every((r) => r.command === 'SELECT' && r.rowCount === 0)).toBe(true);
    // The writes of a chat, rolled back: each succeeds (a failed one would skip the rest) and none stays.
    const ids = { conversation: randomUUID(), message: randomUUID(), job: randomUUID() };
    const writes = (await database.db.$client.query(writeWarmUp(ids))) as unknown as { command: string; rowCount: number | null }[];
    expect(writes.map((r) => r.command)).toEqual(['BEGIN', 'INSERT', 'INSERT', 'INSERT', 'UPDATE', 'UPDATE', 'UPDATE', 'INSERT', 'ROLLBACK']);
    expect(writes.slice(1, -1).every((r) => r.rowCount === 1)).toBe(true);
    const left = await database.db.$client.query(
      `select (select count(*) from conversations) + (select count(*) from messages) + (select count(*) from jobs) + (select count(*) from usage_ledger) as n`,
    );
    expect(Number(left.rows[0].n)).toBe(0);
    const created = await createTestDatabase();
    const warmed = await openDatabase({ databaseUrl: created.url, dataDir: '/tmp', poolSize: 2, migrate: true, warm: 2 });
    try {
      expect(warmed.db.$client.totalCount).toBe(2);
    } finally {
      await warmed.close();
      await created.drop();
    }
  });

  it('indexes every foreign key: a cascade from a deleted conversation finds its rows without reading the table', async () => {
    // Each constraint's referencing columns must lead some index of its table.
    const { rows } = await database.db.$client.query<{ constraint: string }>(`
      select c.conname as constraint from pg_constraint c
      where c.contype = 'f' and c.connamespace = 'public'::regnamespace
        and not exists (
          select 1 from pg_index i
          where i.indrelid = c.conrelid and (i.indkey::int2[])[0:cardinality(c.conkey) - 1] = c.conkey
        )`);
    expect(rows).toEqual([]);
  });

  it("finds a user's open chats, and the reconciler's open jobs, in an index that only holds open jobs, with a prepared statement's generic plan too", async () => {
    const client = await database.db.$client.connect();
    try {
      // Tiny tables: without this the planner reads them whole, whatever the indexes. A generic
      // plan (what a named statement settles on) sees only parameters, not their values.
      await client.query('set enable_seqscan = off');
      await client.query('set plan_cache_mode = force_generic_plan');
      const plan = async (name: string, query: { sql: string; params: unknown[] }) => {
        await client.query(`prepare ${name} as ${query.sql}`);
        const args = query.params.map((p) => `'${String(p)}'`).join(', ');
        return (await client.query<{ 'QUERY PLAN': string }>(`explain execute ${name}${args ? `(${args})` : ''}`)).rows.map((r) => r['QUERY PLAN']).join('\n');
      };
      const openChats = database.db.select({ n: sql`count(*)` }).from(jobs).where(and(eq(jobs.owner, 'u'), eq(jobs.type, 'chat'), jobIsOpen));
      expect(await plan('open_chats', openChats.toSQL())).toContain('jobs_open_idx');
      const sweep = database.db.select({ id: jobs.id }).from(jobs).where(and(eq(jobs.type, 'chat'), jobIsOpen, lt(jobs.createdAt, new Date())));
      expect(await plan('sweep', sweep.toSQL())).toContain('jobs_open_idx');
      expect(await plan('cascade', { sql: 'delete from jobs where conversation_id = $1', params: ['00000000-0000-4000-8000-000000000001'] })).toContain('jobs_conversation_idx');
    } finally {
      await client.query('deallocate all; reset enable_seqscan; reset plan_cache_mode');
      client.release();
    }
  });

  it('prepares nothing with namedStatements off (behind a transaction-pooling proxy)', async () => {
    const created = await createTestDatabase();
    const unnamed = await openDatabase({ databaseUrl: created.url, dataDir: '/tmp', poolSize: 1, migrate: true, namedStatements: false });
    try {
      await unnamed.db.select({ id: conversations.id }).from(conversations).where(eq(conversations.id, '00000000-0000-4000-8000-000000000001'));
      const { rows } = await unnamed.db.$client.query('select statement from pg_prepared_statements');
      expect(rows).toEqual([]);
    } finally {
      await unnamed.close();
      await created.drop();
    }
  });
});
