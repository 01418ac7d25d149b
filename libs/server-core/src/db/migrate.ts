/**
 * The migration step of a deployment (same image as the services): `node libs/server-core/dist/db/migrate.js`.
 * Applies pending migrations to DATABASE_URL (+ DATABASE_PASSWORD) and, when APP_DB_USER and
 * APP_DB_PASSWORD are set, creates or updates the services' own login role. Exits 0 when the
 * schema is current, 1 with a message otherwise. Migrations stay backward compatible for one
 * release: the running services keep working while it runs and until they are replaced.
 */
import { z } from 'zod';
import { describeZodIssues, withPassword } from '../config/config.js';
import { knownMigrations, runMigrations } from './database.js';

const env = z
  .object({
    DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL'),
    DATABASE_PASSWORD: z.string().min(1).optional(),
    APP_DB_USER: z.string().min(1).optional(),
    APP_DB_PASSWORD: z.string().min(1).optional(),
  })
  .safeParse(process.env);

if (!env.success) {
  console.error(`migrate: invalid configuration: ${describeZodIssues(env.error)}`);
  process.exit(1);
}
const e = env.data;
if (!!e.APP_DB_USER !== !!e.APP_DB_PASSWORD) {
  console.error('migrate: set both APP_DB_USER and APP_DB_PASSWORD, or neither');
  process.exit(1);
}
try {
  const started = Date.now();
  const { applied } = await runMigrations({
    databaseUrl: withPassword(e.DATABASE_URL, e.DATABASE_PASSWORD),
    appRole: e.APP_DB_USER ? { name: e.APP_DB_USER, password: e.APP_DB_PASSWORD! } : undefined,
  });
  console.log(
    `migrate: schema current (${applied} applied, ${knownMigrations().length} in this build)` +
      `${e.APP_DB_USER ? `, role ${e.APP_DB_USER} ready` : ''} in ${Date.now() - started} ms`,
  );
  process.exit(0);
} catch (err) {
  console.error(`migrate: failed: ${(err as Error).message}`);
  process.exit(1);
}
