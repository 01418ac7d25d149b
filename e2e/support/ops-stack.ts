import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTestDatabase } from '@switchboard/testing';
import { type Stack, startStack } from './stack';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The local admin of the Operations stack. */
export const opsAdmin = 'ops-admin';

export type OpsStack = Stack & {
  /** Another worker process on the same Redis, Postgres and emulator (to be killed). */
  startWorker(): Promise<ChildProcess>;
};

/**
 * A stack of its own for Operations: on PostgreSQL (not the embedded PGlite), so a second worker
 * process can join it; short heartbeats and pushes; `ops-admin` is an admin.
 */
export async function startOpsStack(): Promise<OpsStack> {
  const database = await createTestDatabase();
  const queuePrefix = `{e2e-ops-${randomBytes(4).toString('hex')}}`;
  const env = {
    DATABASE_URL: database.url,
    QUEUE_PREFIX: queuePrefix,
    AUTH_LOCAL_ADMINS: opsAdmin,
    OPS_HEARTBEAT_MS: '1500',
    OPS_PUSH_INTERVAL_MS: '500',
    RATE_CHAT_CONCURRENT: '0',
    RATE_CHAT_PER_MINUTE: '0',
    RATE_JOBS_PER_MINUTE: '0',
  };
  const stack = await startStack({ env });
  const emulatorUrl = /local Bedrock emulator at (http:\/\/\S+?) /.exec(stack.output())?.[1];
  const workers: ChildProcess[] = [];
  const dirs: string[] = [];
  return {
    ...stack,
    startWorker: async () => {
      const dataDir = await mkdtemp(join(tmpdir(), 'sb-e2e-worker-'));
      dirs.push(dataDir);
      const child = spawn(process.execPath, [join(root, 'worker/dist/main.js')], {
        env: {
          PATH: process.env.PATH ?? '',
          ...env,
          REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
          DATA_DIR: dataDir,
          MODELS_FILE: join(stack.dataDir, 'models.json'),
          BEDROCK_MODE: 'emulator',
          AWS_ENDPOINT_URL_BEDROCK_RUNTIME: emulatorUrl ?? '',
          QUOTA_WINDOW_MS: '4000',
          LOG_LEVEL: 'warn',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      workers.push(child);
      await new Promise<void>((resolve, reject) => {
        let output = '';
        const onData = (chunk: Buffer) => {
          output += chunk.toString();
          if (output.includes('Switchboard worker ready')) resolve();
        };
        child.stdout!.on('data', onData);
        child.stderr!.on('data', onData);
        child.once('exit', (code) => reject(new Error(`worker exited with ${code}: ${output.slice(-2000)}`)));
      });
      return child;
    },
    stop: async () => {
      for (const w of workers) if (w.exitCode === null && w.signalCode === null) w.kill('SIGKILL');
      await stack.stop();
      await database.drop().catch(() => undefined);
      await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
    },
  };
}
