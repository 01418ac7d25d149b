import { type ChildProcess, spawn } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Emulator, type EmulatorOptions, startEmulator } from '@switchboard/bedrock-emulator';
import { createTestDatabase, testQueuePrefix, testRedisUrl } from '@switchboard/testing';


const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

export type Proc = { name: string; child: ChildProcess; output: string[]; url?: string };

/** `CMD ["node", "api/dist/main.js"]` of a Dockerfile: what the image runs when the task definition adds no command. */
export function imageCommand(dockerfile: string): string[] {
  const line = readFileSync(join(root, dockerfile), 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('CMD '))
    .at(-1)!;
  return JSON.parse(line.slice(4)) as string[];
}

/**
 * Starts the API or a worker from the built dist as its image does: with the Node flags of the
 * image's CMD (e.g. its GC setting), so that tests and benchmarks run what production runs.
 */
export function spawnProduct(kind: 'api' | 'worker', name: string, env: Record<string, string>): Promise<Proc> {
  const nodeFlags = imageCommand(`${kind}/Dockerfile`).slice(1, -1);
  const ready = kind === 'api' ? /listening at (http:\S+)/ : /Switchboard worker ready/;
  return spawnProcess(name, join(root, kind, 'dist', 'main.js'), env, ready, [], { nodeFlags });
}

export type Stack = {
  /** In-process emulator (not set when the stack was given an external emulator URL). */
  emulator: Emulator;
  apis: Proc[];
  workers: Proc[];
  env: Record<string, string>;
  databaseUrl: string;
  token(username: string, extra?: { groups?: string[]; scopes?: string[] }): Promise<string>;
  /** Another worker; `env` overrides the stack's settings for it alone (e.g. its DATABASE_URL through a proxy). */
  startWorker(env?: Record<string, string>): Promise<Proc>;
  stop(): Promise<void>;
};

/**
 * Real processes: N API nodes and M workers from the built dist, on real Redis (a fresh queue
 * prefix) and PostgreSQL (a fresh database), with the Bedrock emulator as the only fake.
 */
export async function startStack(opts: {
  apis: number;
  workers: number;
  emulator?: EmulatorOptions;
  /** Use an emulator running elsewhere (e.g. its own process, for benchmarks). */
  emulatorUrl?: string;
  env?: Record<string, string>;
  /** Keep the settings tests shrink at the product's defaults (benchmarks). */
  productionDefaults?: boolean;
}): Promise<Stack> {
  const emulator = opts.emulatorUrl ? undefined : await startEmulator({ tps: 400, ttfbMs: 5, ...opts.emulator });
  const database = await createTestDatabase();
  const dataDir = mkdtempSync(join(tmpdir(), 'sb-it-'));
  const env: Record<string, string> = {
    REDIS_URL: testRedisUrl,
    DATABASE_URL: database.url,
    DATA_DIR: dataDir,
    QUEUE_PREFIX: testQueuePrefix(),
    BEDROCK_MODE: 'emulator',
    AWS_ENDPOINT_URL_BEDROCK_RUNTIME: opts.emulatorUrl ?? emulator!.url,
    AWS_REGION: 'us-east-1',
    AUTH_MODE: 'local',
    LOG_LEVEL: 'info',
    PORT: '0',
    HOST: '127.0.0.1',
    // Whole pools (the default: API 10, worker 20 connections each) for every process of the larger
    // stacks would near Postgres' 100 connections here, and two test files run at once: a burst of
    // 200 chats on one stack filled them, and the other file's queries were refused ("too many clients").
    ...(opts.productionDefaults ? {} : { DB_POOL_WARM: '2', DB_POOL_MAX: '6' }),
    ...opts.env,
  };
  const procs: Proc[] = [];
  const launch = async (kind: 'api' | 'worker', index: number, own: Record<string, string> = {}) => {
    const p = await spawnProduct(kind, `${kind}-${index}`, { ...env, ...own });
    procs.push(p);
    return p;
  };
  // The first API applies migrations; start it alone so the rest boot on a migrated database.
  const apis = [await launch('api', 0)];
  apis.push(...(await Promise.all(Array.from({ length: opts.apis - 1 }, (_, i) => launch('api', i + 1)))));
  const workers = await Promise.all(Array.from({ length: opts.workers }, (_, i) => launch('worker', i)));

  return {
    emulator: emulator!,
    apis,
    workers,
    env,
    databaseUrl: database.url,
    token: async (username, extra) => {
      const res = await fetch(`${apis[0]!.url}/v1/auth/dev-token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username, ...extra }),
      });
      if (!res.ok) throw new Error(`dev-token: ${res.status} ${await res.text()}`);
      return ((await res.json()) as { access_token: string }).access_token;
    },
    startWorker: async (own) => {
      const worker = await launch('worker', workers.length, own);
      workers.push(worker);
      return worker;
    },
    stop: async () => {
      await Promise.all(procs.map((p) => stopProcess(p)));
      await emulator?.close();
      await database.drop().catch(() => undefined);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export async function spawnProcess(
  name: string,
  script: string,
  env: Record<string, string>,
  ready: RegExp,
  args: string[] = [],
  opts: {
    /** Node's own flags, before the script. */
    nodeFlags?: string[];
    /** Run this instead of `node script …args` (e.g. the process inside a wrapper). */
    exec?: { command: string; args: string[] };
  } = {},
): Promise<Proc> {
  // SB_NODE_ARGS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof") profiles the stack's processes in benchmarks.
  const nodeArgs = [...(opts.nodeFlags ?? []), ...(process.env.SB_NODE_ARGS?.split(' ').filter(Boolean) ?? [])];
  const child = spawn(opts.exec?.command ?? process.execPath, opts.exec?.args ?? [...nodeArgs, script, ...args], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const proc: Proc = { name, child, output: [] };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} not ready in 60 s:\n${proc.output.join('')}`)), 60_000);
    const onData = (chunk: Buffer) => {
      const text = chunk.toString();
      proc.output.push(text);
      if (process.env.SB_TEE_DIR) appendFileSync(`${process.env.SB_TEE_DIR}/${name}.log`, text);
      if (proc.output.length > 2000) proc.output.splice(0, 1000);
      const match = ready.exec(text);
      if (match && !proc.url) {
        proc.url = match[1] ?? 'ready';
        clearTimeout(timer);
        resolve(proc);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited with ${code}:\n${proc.output.join('')}`));
    });
  });
}

export function stopProcess(proc: Proc, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (proc.child.exitCode !== null || proc.child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => proc.child.kill('SIGKILL'), 15_000);
    proc.child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    proc.child.kill(signal);
  });
}

export const isRunning = (proc: Proc) => proc.child.exitCode === null && proc.child.signalCode === null;

/**
 * What Redis losing its data does to one stack: deletes this stack's keys only (other suites share
 * the Redis server) — its queues, lines and flags, and the streams of the given jobs. Returns how
 * many keys went.
 */
export async function loseRedisData(stack: Stack, jobIds: string[]): Promise<number> {
  const { Redis } = await import('ioredis');
  const redis = new Redis(stack.env.REDIS_URL!);
  try {
    let deleted = 0;
    for (const pattern of [`${stack.env.QUEUE_PREFIX}*`, ...jobIds.map((id) => `{job:${id}}*`)]) {
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
        cursor = next;
        if (keys.length) deleted += await redis.del(...keys);
      } while (cursor !== '0');
    }
    return deleted;
  } finally {
    redis.disconnect();
  }
}
