import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql } from 'drizzle-orm';
import { drizzle as drizzlePg, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import { migrate as migratePg } from 'drizzle-orm/node-postgres/migrator';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import pg from 'pg';
import { schema } from './schema.js';

/** The one query surface used by repositories, whichever driver is underneath. */
export type Db = NodePgDatabase<typeof schema>;

export type Database = { db: Db; kind: 'postgres' | 'pglite'; ping(): Promise<void>; close(): Promise<void> };

const migrationsFolder = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'drizzle');
// Any fixed 64-bit number: serialises migrations when several processes boot at once.
const migrationLockId = 7_301_245_901;

// PGlite is single-process: API and worker in one process must share one instance.
const pgliteByDir = new Map<string, Promise<Database>>();

/** Opens PostgreSQL (DATABASE_URL) or embedded PGlite under dataDir, and applies migrations. */
export function openDatabase(opts: { databaseUrl?: string; dataDir: string; poolSize?: number }): Promise<Database> {
  if (opts.databaseUrl) return openPostgres(opts.databaseUrl, opts.poolSize ?? 10);
  const dir = join(opts.dataDir, 'pglite');
  let opened = pgliteByDir.get(dir);
  if (!opened) {
    opened = openPglite(dir);
    pgliteByDir.set(dir, opened);
  }
  return opened;
}

async function openPostgres(url: string, max: number): Promise<Database> {
  // A Postgres that drops packets must fail requests with 503 soon, not hold them for minutes.
  const pool = new pg.Pool({ connectionString: url, max, connectionTimeoutMillis: 5_000 });
  pool.on('error', () => undefined); // idle client errors surface on the next query instead
  const client = await pool.connect();
  try {
    await client.query('select pg_advisory_lock($1)', [migrationLockId]);
    await migratePg(drizzlePg(client, { schema }), { migrationsFolder });
  } finally {
    await client.query('select pg_advisory_unlock($1)', [migrationLockId]).catch(() => undefined);
    client.release();
  }
  const db = drizzlePg(pool, { schema });
  return {
    db,
    kind: 'postgres',
    ping: async () => void (await db.execute(sql`select 1`)),
    close: () => pool.end(),
  };
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
