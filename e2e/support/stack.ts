import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The local user name that signs in as an admin on e2e stacks. */
export const adminUser = 'e2e-admin';

export type Stack = { url: string; dataDir: string; stop: () => Promise<void>; output: () => string };

/** Model catalog for the tests: one model per capability set the portal treats differently. */
export const testModels = [
  {
    id: 'anthropic.claude-3-haiku-20240307-v1:0', name: 'Claude 3 Haiku', vision: true, documents: true,
    maxOutputTokens: 4096, contextWindow: 200000, quota: { requestsPerMinute: 1000, tokensPerMinute: 10000000 },
    price: { inputPer1k: 0.25, outputPer1k: 1.25 }, default: true,
  },
  {
    id: 'test.vision-only-v1:0', name: 'Vision Only', vision: true, documents: false,
    maxOutputTokens: 4096, contextWindow: 200000, quota: { requestsPerMinute: 1000, tokensPerMinute: 10000000 },
    price: { inputPer1k: 0.003, outputPer1k: 0.015 },
  },
  {
    id: 'test.text-only-v1:0', name: 'Text Only', vision: false, documents: false,
    maxOutputTokens: 4096, contextWindow: 200000, quota: { requestsPerMinute: 1000, tokensPerMinute: 10000000 },
    price: { inputPer1k: 0.001, outputPer1k: 0.002 },
  },
  {
    // One request per (shortened) quota window: a second chat has to wait in line.
    id: 'test.tiny-quota-v1:0', name: 'Tiny Quota', vision: false, documents: false,
    maxOutputTokens: 1024, contextWindow: 8000, quota: { requestsPerMinute: 1, tokensPerMinute: 1000000 },
    price: { inputPer1k: 0.001, outputPer1k: 0.002 },
  },
  {
    // Bedrock's rules of a current model: temperature or top P, extended thinking, prompt caching.
    id: 'us.anthropic.claude-sonnet-4-5-20250929-v1:0', name: 'Claude Sonnet 4.5', vision: true, documents: true,
    maxOutputTokens: 64000, contextWindow: 200000, quota: { requestsPerMinute: 1000, tokensPerMinute: 10000000 },
    price: { inputPer1k: 0.003, outputPer1k: 0.015, cacheReadPer1k: 0.0003, cacheWritePer1k: 0.00375 },
    rules: { exclusiveSampling: true, topK: { min: 0, max: 500 }, thinking: { minBudget: 1024 }, promptCache: { minTokens: 1024, maxPoints: 4 } },
  },
  {
    // No rules given: what Bedrock does for the id (adaptive thinking only, no sampling parameters).
    id: 'us.anthropic.claude-opus-4-7', name: 'Claude Opus 4.7', vision: true, documents: true,
    maxOutputTokens: 128000, contextWindow: 200000, quota: { requestsPerMinute: 1000, tokensPerMinute: 10000000 },
    price: { inputPer1k: 0.005, outputPer1k: 0.025 },
  },
  {
    // No rules given: a Claude 5 model thinks on every answer.
    id: 'us.anthropic.claude-opus-5-5', name: 'Claude Opus 5.5', vision: true, documents: true,
    maxOutputTokens: 128000, contextWindow: 1000000, quota: { requestsPerMinute: 1000, tokensPerMinute: 10000000 },
    price: { inputPer1k: 0.004, outputPer1k: 0.02 },
  },
];

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export type StackOptions = { port?: number; env?: Record<string, string>; timeoutMs?: number };

/**
 * Starts `node scripts/start.mjs` (API + worker + portal + Bedrock emulator) on a free port with a
 * fresh data dir and waits for its ready line. The portal and servers must be built already.
 */
export async function startStack({ port: chosenPort, env = {}, timeoutMs = 90_000 }: StackOptions = {}): Promise<Stack> {
  const port = chosenPort ?? (await freePort());
  const dataDir = await mkdtemp(join(tmpdir(), 'sb-e2e-'));
  const modelsFile = join(dataDir, 'models.json');
  await writeFile(modelsFile, JSON.stringify(testModels));
  const child: ChildProcess = spawn(process.execPath, ['scripts/start.mjs'], {
    cwd: root,
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      MODELS_FILE: modelsFile,
      REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
      // Own queues and streams: another stack on the same Redis (a second e2e stack, `npm start`)
      // must not take this one's jobs.
      QUEUE_PREFIX: `{e2e-${randomBytes(4).toString('hex')}}`,
      SWITCHBOARD_SKIP_INSTALL: '1',
      BEDROCK_MODE: 'emulator',
      // The governor's quota window: 4 s instead of a minute, so quota waits stay short.
      QUOTA_WINDOW_MS: '4000',
      // Local sign-in as this name gets the admin group (the Budgets and Usage pages).
      AUTH_LOCAL_ADMINS: adminUser,
      NODE_OPTIONS: '',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`stack not ready after ${timeoutMs} ms:\n${output.slice(-4000)}`)), timeoutMs);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.length > 1_000_000) output = output.slice(-200_000);
      const match = /Switchboard ready at (http:\/\/\S+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!.replace(/\/$/, ''));
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`stack exited with ${code} before it was ready:\n${output.slice(-4000)}`));
    });
  });
  const stop = async () => {
    if (child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    await rm(dataDir, { recursive: true, force: true });
  };
  return { url, dataDir, stop, output: () => output };
}
