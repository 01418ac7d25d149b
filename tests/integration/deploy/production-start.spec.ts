import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { builtInCatalog } from '@switchboard/server-core';
import { createTestDatabase, testQueuePrefix, testRedisUrl } from '@switchboard/testing';
import { imageCommand, type Proc, spawnProcess, stopProcess } from '../support/stack.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** Runs a command to its end; resolves with its exit code and output. */
function run(cmd: string, args: string[], env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (c) => (output += c));
    child.stderr.on('data', (c) => (output += c));
    child.once('exit', (code) => resolve({ code, output }));
  });
}

/**
 * Issue 13: what a deployment does, with the processes and commands the images run. The database
 * is migrated by a separate step (the services do not migrate at boot and refuse a database
 * behind them), the services connect as an application role, and both images start as a non-root
 * user with a read-only code tree and an empty root-owned /tmp — what Fargate mounts there when
 * the image declares no VOLUME.
 */
describe('production start: migrate step, app role, non-root read-only containers', () => {
  const appRole = `sb_app_${randomBytes(4).toString('hex')}`;
  const catalog = [{ ...builtInCatalog[1]!, id: 'us.anthropic.claude-haiku-4-5-20251001-v1:0', name: 'Only model (from MODELS_JSON)', default: true }];
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  const procs: Proc[] = [];
  let env: Record<string, string>;

  beforeAll(async () => {
    database = await createTestDatabase();
    env = {
      NODE_ENV: 'production',
      HOME: '/nonexistent',
      REDIS_URL: testRedisUrl,
      DATABASE_URL: database.url,
      QUEUE_PREFIX: testQueuePrefix(),
      DB_MIGRATE_ON_BOOT: 'false',
      BEDROCK_MODE: 'emulator',
      AWS_ENDPOINT_URL_BEDROCK_RUNTIME: 'http://127.0.0.1:9',
      AWS_REGION: 'us-east-1',
      AUTH_MODE: 'oidc',
      AUTH_ISSUER: 'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_example',
      AUTH_AUDIENCE: 'portal-client-id,batch-client-id',
      AUTH_CLIENT_ID: 'portal-client-id',
      MODELS_JSON: JSON.stringify(catalog),
      HOST: '127.0.0.1',
      PORT: '0',
      BACKLOG_METRICS_INTERVAL_MS: '0',
      LOG_LEVEL: 'info',
    };
  });

  afterAll(async () => {
    await Promise.all(procs.map((p) => stopProcess(p)));
    const admin = new pg.Client({ connectionString: database.url });
    await admin.connect();
    await admin.query(`drop owned by ${appRole}`).catch(() => undefined);
    await admin.end();
    await database.drop();
    const cluster = new pg.Client({ connectionString: database.url.replace(/\/[^/]+$/, '/test') });
    await cluster.connect();
    await cluster.query(`drop role if exists ${appRole}`).catch(() => undefined);
    await cluster.end();
  }, 60_000);

  it('a service does not migrate at boot: it refuses a database without the migrations and names the step', async () => {
    const result = await run(process.execPath, [join(root, 'api/dist/main.js')], env);
    expect(result.code).not.toBe(0);
    expect(result.output).toContain('run the migrate step first');
    const db = new pg.Client({ connectionString: database.url });
    await db.connect();
    const { rows } = await db.query(`select to_regclass('public.jobs') as jobs`);
    await db.end();
    expect(rows[0].jobs).toBeNull();
  });

  it('the migrate command applies the migrations and creates the application role', async () => {
    const result = await run(process.execPath, [join(root, 'libs/server-core/dist/db/migrate.js')], {
      DATABASE_URL: database.url,
      APP_DB_USER: appRole,
      APP_DB_PASSWORD: 'app-secret',
    });
    console.log(result.output.trim());
    expect(result.code).toBe(0);
    expect(result.output).toContain(`role ${appRole} ready`);
    // Idempotent, as a rerun of the deploy step is.
    expect((await run(process.execPath, [join(root, 'libs/server-core/dist/db/migrate.js')], { DATABASE_URL: database.url })).code).toBe(0);

    // The role uses the tables but cannot change the schema.
    const asApp = new URL(database.url);
    asApp.username = appRole;
    const db = new pg.Client({ connectionString: asApp.toString() });
    await db.connect();
    try {
      await db.query('select count(*) from jobs');
      await expect(db.query('create table evil (id int)')).rejects.toThrow(/permission denied/);
    } finally {
      await db.end();
    }
  });

  it('the catalog travels in MODELS_JSON (no file): a bad one stops the process naming it', async () => {
    const result = await run(process.execPath, [join(root, 'api/dist/main.js')], { ...env, MODELS_JSON: '[{"id":"x"}]' });
    expect(result.code).not.toBe(0);
    expect(result.output).toContain('MODELS_JSON is not a valid model catalog');
  });

  it.each([
    ['api', 'api/Dockerfile', /listening at (http:\S+)/],
    ['worker', 'worker/Dockerfile', /Switchboard worker ready/],
  ] as const)('the %s image command starts as nobody, with a read-only code tree and an empty root-owned /tmp', async (name, dockerfile, ready) => {
    const [bin, ...args] = imageCommand(dockerfile);
    expect(bin).toBe('node');
    const asApp = new URL(database.url);
    asApp.username = appRole;
    // A private mount namespace: /tmp and /var/tmp become empty root-owned 0755 tmpfs (nobody may
    // write there), the repository is bind-mounted read-only, and the process drops to nobody.
    // The repository or Node itself may live under /tmp (a CI clone): those are put back at their
    // paths, read-only, from the old /tmp held aside while the tmpfs goes on.
    const keep = [root, dirname(process.execPath)].filter((p) => /^\/(var\/)?tmp\//.test(p));
    const script = [
      'set -e',
      'mount -t tmpfs tmpfs /mnt',
      'for d in /tmp /var/tmp; do mkdir -p "/mnt$d"; mount --rbind "$d" "/mnt$d"; done',
      'mount -t tmpfs -o mode=0755,uid=0,gid=0 tmpfs /tmp',
      'mount -t tmpfs -o mode=0755,uid=0,gid=0 tmpfs /var/tmp',
      ...keep.map((p) => `mkdir -p "${p}" && mount --bind "/mnt${p}" "${p}" && mount -o remount,bind,ro "${p}"`),
      'umount -l /mnt',
      ...(keep.includes(root) ? [] : [`mount --bind "${root}" "${root}"`, `mount -o remount,bind,ro "${root}"`]),
      `cd "${root}"`,
      `exec setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all "${process.execPath}" ${args.join(' ')}`,
    ].join('\n');
    const proc = await spawnProcess(name, '/usr/bin/unshare', { ...env, DATABASE_URL: asApp.toString(), DATABASE_PASSWORD: 'app-secret' }, ready, [], {
      exec: { command: '/usr/bin/unshare', args: ['--mount', '--propagation', 'private', 'sh', '-c', script] },
    });
    procs.push(proc);
    const output = proc.output.join('');
    expect(output).not.toMatch(/EACCES|EROFS|permission denied/i);
    const status = await run('/bin/sh', ['-c', `grep -E '^Uid:' /proc/${proc.child.pid}/status`], {});
    expect(status.output).toMatch(/^Uid:\s+65534/m);
    if (name === 'api') {
      const config = await (await fetch(`${proc.url}/v1/client-config`)).json();
      expect(config).toMatchObject({ authMode: 'oidc' });
    }
    await stopProcess(proc);
  });
});
