import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { getTableName, is, sql } from 'drizzle-orm';
import { PgTable } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePg, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import { migrate as migratePg } from 'drizzle-orm/node-postgres/migrator';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import pg from 'pg';
import { ConfigError } from '../config/config.js';
import { schema } from './schema.js';

/** The one query surface used by repositories, whichever driver is underneath. */
export type Db = NodePgDatabase<typeof schema>;

export type Database = { db: Db; kind: 'postgres' | 'pglite'; ping(): Promise<void>; close(): Promise<void> };

const migrationsFolder = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'drizzle');
// Any fixed 64-bit number: serialises migrations when several processes boot at once.
const migrationLockId = 7_301_245_901;

// PGlite is single-process: API and worker in one process must share one instance.
const pgliteByDir = new Map<string, Promise<Database>>();

/**
 * Opens PostgreSQL (DATABASE_URL) or embedded PGlite under dataDir. PGlite always migrates (one
 * process owns it). PostgreSQL migrates at boot only with `migrate: true` (laptops, tests); a
 * deployment runs `migrate` once as a step before the services roll, and a booting service only
 * checks that the schema has every migration it was built with.
 */
export function openDatabase(opts: {
  databaseUrl?: string;
  dataDir: string;
  poolSize?: number;
  migrate?: boolean;
  /**
   * Connections to open at boot and keep open (pg closes idle clients after 10 s): a burst after
   * a quiet spell then forks fewer Postgres backends on its way (issue 19). At most poolSize.
   */
  warm?: number;
  /**
   * Prepare statements per connection (StatementCachingClient; default true). Off behind a proxy
   * that hands one server connection to several clients between transactions (PgBouncer before
   * 1.21 in transaction mode; RDS Proxy pins such a session), where a prepared name may not exist.
   */
  namedStatements?: boolean;
}): Promise<Database> {
  if (opts.databaseUrl) {
    const poolSize = opts.poolSize ?? 10;
    return openPostgres(opts.databaseUrl, { max: poolSize, migrate: opts.migrate ?? true, warm: Math.min(opts.warm ?? 0, poolSize), named: opts.namedStatements ?? true });
  }
  const dir = join(opts.dataDir, 'pglite');
  let opened = pgliteByDir.get(dir);
  if (!opened) {
    opened = openPglite(dir);
    pgliteByDir.set(dir, opened);
  }
  return opened;
}

/** Distinct statements named per process (see StatementCachingClient); the rest go unnamed. */
const maxNamedStatements = 200;
const statementNames = new Map<string, string>();

/**
 * Names every parameterised statement by its text, so each connection has Postgres parse and plan
 * it once and then only binds and executes it (issue 19: parsing and planning were most of what a
 * short statement cost the server). Our statements are fixed texts built by drizzle; the first
 * `maxNamedStatements` distinct ones are named (a list whose length varies makes a new text),
 * which bounds what each backend keeps. Migrations and other unparameterised statements stay unnamed.
 */
class StatementCachingClient extends pg.Client {
  override query(...args: unknown[]): never {
    const [config, values] = args as [{ text?: unknown; name?: unknown; values?: unknown } | string, unknown];
    const params = typeof config === 'object' && config ? (values ?? config.values) : undefined;
    if (typeof config === 'object' && config && typeof config.text === 'string' && !config.name && Array.isArray(params) && params.length > 0) {
      let name = statementNames.get(config.text);
      if (!name && statementNames.size < maxNamedStatements) statementNames.set(config.text, (name = `sb_${statementNames.size + 1}`));
      if (name) args[0] = { ...config, name };
    }
    return (super.query as (...a: unknown[]) => never)(...args);
  }
}

/**
 * A new Postgres backend fills its catalog caches (our tables, their indexes and columns) on its
 * first statements: some 5 to 9 ms of the server's CPU each (measured on a backend of our schema),
 * which the first burst after a boot paid on every pooled connection at once (issue 19, cold).
 * Planning a query that reads no row from every table fills them at boot instead. One round trip.
 */
export const catalogWarmUp = Object.values(schema)
  .filter((table) => is(table, PgTable))
  .map((table) => `select from "${getTableName(table)}" where false`)
  .join('; ');

/**
 * Filling the catalog caches leaves the first write of each kind still slow on a new backend: it
 * opens the table's indexes, prepares the foreign keys' checks and loads the text-search
 * configuration (a first chat turn's insert took 13 to 18 ms instead of under 1 ms). The writes of
 * a chat, in a transaction that is rolled back, do that at boot. Ids are the caller's (one set per
 * connection: rows of concurrent warm-ups would wait on each other's unique keys).
 */
export function writeWarmUp(ids: { conversation: string; message: string; job: string }): string {
  const { conversation: c, message: m, job: j } = ids;
  return [
    'begin',
    `insert into conversations (id, owner, title, model_id) values ('${c}', '', 'warm-up', '')`,
    `insert into messages (id, conversation_id, owner, role, content, status) values ('${m}', '${c}', '', 'assistant', '[{"type":"text","text":"warm-up"}]', 'streaming')`,
    `insert into jobs (id, owner, type, status, model_id, conversation_id, message_id, input) values ('${j}', '', 'chat', 'queued', '', '${c}', '${m}', '{}')`,
    `update jobs set status = 'completed', finished_at = now() where id = '${j}'`,
    `update messages set content = '[{"type":"text","text":"warmed up"}]', status = 'complete' where id = '${m}'`,
    `update conversations set title = 'warmed up', updated_at = now() where id = '${c}'`,
    `insert into usage_ledger (call_key, principal, principal_kind, model_id, purpose) values ('warm-up:${j}', '', 'person', '', 'chat')`,
    'rollback',
  ].join('; ');
}

/** Best effort: a connection whose warm-up fails is as good as an unwarmed one (and is left out of any transaction). */
async function warmUpConnection(client: pg.PoolClient): Promise<void> {
  try {
    await client.query(catalogWarmUp);
    await client.query(writeWarmUp({ conversation: randomUUID(), message: randomUUID(), job: randomUUID() }));
  } catch {
    await client.query('rollback').catch(() => undefined);
  }
}

async function openPostgres(url: string, { max, migrate, warm, named }: { max: number; migrate: boolean; warm: number; named: boolean }): Promise<Database> {
  // A Postgres that drops packets must fail requests with 503 soon, not hold them for minutes.
  const pool = new pg.Pool({ connectionString: url, max, min: warm, connectionTimeoutMillis: 5_000, ...(named ? { Client: StatementCachingClient } : {}) });
  pool.on('error', () => undefined); // idle client errors surface on the next query instead
  const client = await pool.connect();
  try {
    if (migrate) await migrateWith(client);
    else await assertSchemaCurrent(client);
  } catch (err) {
    client.release();
    await pool.end();
    throw err;
  }
  client.release();
  if (warm > 0) {
    const clients = await Promise.all(Array.from({ length: warm }, () => pool.connect()));
    await Promise.all(clients.map(warmUpConnection));
    for (const c of clients) c.release();
  }
  const db = drizzlePg(pool, { schema });
  return {
    db,
    kind: 'postgres',
    ping: async () => void (await db.execute(sql`select 1`)),
    close: () => pool.end(),
  };
}

/** Applies pending migrations, serialised across processes by an advisory lock. */
async function migrateWith(client: pg.PoolClient | pg.Client): Promise<void> {
  try {
    await client.query('select pg_advisory_lock($1)', [migrationLockId]);
    await migratePg(drizzlePg(client as pg.Client, { schema }), { migrationsFolder });
  } finally {
    await client.query('select pg_advisory_unlock($1)', [migrationLockId]).catch(() => undefined);
  }
}

/** Migrations this build carries (drizzle's journal). */
export function knownMigrations(): string[] {
  const journal = JSON.parse(readFileSync(join(migrationsFolder, 'meta', '_journal.json'), 'utf8')) as { entries: { tag: string }[] };
  return journal.entries.map((e) => e.tag);
}

/** A ConfigError: the process prints its message alone and exits (like a bad setting). */
export class SchemaBehindError extends ConfigError {}

/**
 * A service booting without migrating refuses a database that lacks migrations it was built with
 * (the migrate step did not run). A database ahead of it is fine: migrations stay backward
 * compatible for one release, so the previous release keeps running during a rollout.
 */
async function assertSchemaCurrent(client: pg.PoolClient): Promise<void> {
  const known = knownMigrations().length;
  const { rows: table } = await client.query<{ t: string | null }>(`select to_regclass('drizzle.__drizzle_migrations')::text as t`);
  const applied = table[0]?.t
    ? Number((await client.query<{ n: string }>('select count(*)::text as n from drizzle.__drizzle_migrations')).rows[0]!.n)
    : 0;
  if (applied < known) {
    throw new SchemaBehindError(
      `The database has ${applied} of the ${known} migrations this build needs: run the migrate step first ` +
        '(`node libs/server-core/dist/db/migrate.js`, the one-off migration task in AWS) or set DB_MIGRATE_ON_BOOT=true',
    );
  }
}

/**
 * The deploy step: applies pending migrations with the connection it is given (the master user in
 * AWS) and, when asked, makes sure the application's own login role exists with the given
 * password and may use the tables but not change the schema.
 */
export async function runMigrations(opts: { databaseUrl: string; appRole?: { name: string; password: string } }): Promise<{ applied: number }> {
  const client = new pg.Client({ connectionString: opts.databaseUrl, connectionTimeoutMillis: 10_000 });
  await client.connect();
  try {
    await migrateWith(client);
    if (opts.appRole) await ensureAppRole(client, opts.appRole.name, opts.appRole.password);
    const { rows } = await client.query<{ n: string }>('select count(*)::text as n from drizzle.__drizzle_migrations');
    return { applied: Number(rows[0]!.n) };
  } finally {
    await client.end();
  }
}

async function ensureAppRole(client: pg.Client, name: string, password: string): Promise<void> {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) throw new Error('APP_DB_USER must be a plain lower-case identifier');
  const ident = client.escapeIdentifier(name);
  const literal = client.escapeLiteral(password);
  const { rowCount } = await client.query('select 1 from pg_roles where rolname = $1', [name]);
  // Password changes (rotation) take effect here; running tasks keep their sessions until they restart.
  await client.query(`${rowCount ? 'alter' : 'create'} role ${ident} with login password ${literal}`);
  const { rows } = await client.query<{ db: string }>('select current_database() as db');
  await client.query(`grant connect on database ${client.escapeIdentifier(rows[0]!.db)} to ${ident}`);
  await client.query(`grant usage on schema public to ${ident}`);
  await client.query(`grant select, insert, update, delete on all tables in schema public to ${ident}`);
  await client.query(`grant usage, select on all sequences in schema public to ${ident}`);
  await client.query(`alter default privileges in schema public grant select, insert, update, delete on tables to ${ident}`);
  await client.query(`alter default privileges in schema public grant usage, select on sequences to ${ident}`);
  // The boot check reads drizzle's journal table.
  await client.query(`grant usage on schema drizzle to ${ident}`);
  await client.query(`grant select on all tables in schema drizzle to ${ident}`);
}

async function openPglite(dir: string): Promise<Database> {
  mkdirSync(dir, { recursive: true });
  const { PGlite } = await import('@electric-sql/pglite');
  const client = await PGlite.create(dir);
  const pgliteDb = drizzlePglite(client, { schema });
  await migratePglite(pgliteDb, { migrationsFolder });
  // Both drivers expose the same query builder; repositories only use that common surface.
  const db = pgliteDb as unknown as Db;
  let closed = false;
  return {
    db,
    kind: 'pglite',
    ping: async () => void (await client.query('select 1')),
    close: async () => {
      if (closed) return;
      closed = true;
      pgliteByDir.delete(dir);
      await client.close();
    },
  };
}

export type DbTransaction = Parameters<Parameters<Db['transaction']>[0]>[0];
/** Either the database or an open transaction: repositories take this to join a caller's transaction. */
export type DbExecutor = Db | DbTransaction;
