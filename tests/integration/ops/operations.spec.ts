import { execFile } from 'node:child_process';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import request from 'supertest';
import type { OpsSnapshot } from '@switchboard/contracts';
import { runOps, UsageError } from '@switchboard/server-core';
import { histogramCount, parseMetrics } from '@switchboard/testing';
import { ChatClient } from '../support/chat-client.js';
import { type Stack, startStack } from '../support/stack.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const modelId = 'us.anthropic.claude-sonnet-4-5-20250929-v1:0';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Polls until `check` returns a value (no time assertion: the suite's timeout bounds it). */
async function until<T>(check: () => Promise<T | undefined>): Promise<T> {
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('operations across processes: worker metrics, heartbeats, ops CLI', () => {
  let stack: Stack;
  let metricsUrl: string;
  let admin: string;

  beforeAll(async () => {
    const port = await freePort();
    metricsUrl = `http://127.0.0.1:${port}/metrics`;
    stack = await startStack({
      apis: 1,
      workers: 1,
      env: { WORKER_METRICS_PORT: String(port), OPS_HEARTBEAT_MS: '1500', AUTH_LOCAL_ADMINS: 'root', METRICS_TOKEN: 'scrape-token-0123456789' },
    });
    admin = await stack.token('root');
  }, 120_000);
  afterAll(() => stack?.stop(), 60_000);

  const scrapeWorker = async () => {
    const res = await fetch(metricsUrl, { headers: { authorization: 'Bearer scrape-token-0123456789' } });
    expect(res.status).toBe(200);
    const text = await res.text();
    return { families: parseMetrics(text), text };
  };
  const snapshot = async () =>
    (await request(stack.apis[0]!.url!).get('/v1/admin/ops').set('authorization', `Bearer ${admin}`).expect(200)).body as OpsSnapshot;
  /** `npm run ops -- …` as a process (what operators run). */
  const opsProcess = (...args: string[]) =>
    promisify(execFile)(process.execPath, [join(root, 'worker/dist/ops/ops-cli.js'), ...args], { env: { ...process.env, ...stack.env } });
  /** The same commands in this process (no Node start per command). */
  const ops = async (...args: string[]) => {
    const lines: string[] = [];
    await runOps(args, (line) => lines.push(line), { ...process.env, ...stack.env });
    return { stdout: lines.join('\n') };
  };

  it('a chat moves the TTFT histogram and the call counters; Operations shows the minute and the worker', async () => {
    expect((await fetch(metricsUrl)).status).toBe(401); // METRICS_TOKEN guards the worker's port too
    const before = await scrapeWorker();
    expect(before.families.get('switchboard_ttft_seconds')?.type).toBe('HISTOGRAM');
    expect(histogramCount(before.text, 'switchboard_ttft_seconds', { model: modelId })).toBe(0);

    const client = await ChatClient.connect(stack.apis[0]!.url!, await stack.token('ana'));
    try {
      const ack = await client.send({ content: [{ type: 'text', text: 'Count to three hundred [[emulator:tokens=300]]' }], modelId, clientMessageId: 'ttft' });
      if (!ack.ok) throw new Error(ack.error.message);
      await client.waitForEnd(ack.jobId);
      expect(client.done.has(ack.jobId)).toBe(true);
    } finally {
      client.close();
    }

    const after = await scrapeWorker();
    expect(histogramCount(after.text, 'switchboard_ttft_seconds', { model: modelId })).toBe(1);
    expect(histogramCount(after.text, 'switchboard_queue_wait_seconds', { lane: 'chat' })).toBeGreaterThanOrEqual(1);
    expect(histogramCount(after.text, 'switchboard_bedrock_request_duration_seconds', { model: modelId, outcome: 'ok' })).toBe(1);
    const calls = after.families.get('switchboard_bedrock_requests_total')!.metrics.find((m) => m.labels?.model === modelId && m.labels?.outcome === 'ok');
    expect(calls?.value).toBe('1');
    const output = after.families.get('switchboard_tokens_total')!.metrics.find((m) => m.labels?.model === modelId && m.labels?.kind === 'output');
    expect(Number(output?.value)).toBeGreaterThan(0);
    expect(after.families.get('switchboard_governor_admissions_total')?.metrics.some((m) => m.labels?.lane === 'chat')).toBe(true);

    // The API node sampled the delta latency (every 8th delta batch carries its append time).
    const api = await request(stack.apis[0]!.url!).get('/metrics').set('authorization', 'Bearer scrape-token-0123456789').expect(200);
    expect(parseMetrics(api.text).get('switchboard_delta_latency_seconds')?.type).toBe('HISTOGRAM');
    expect(histogramCount(api.text, 'switchboard_delta_latency_seconds')).toBeGreaterThanOrEqual(1);

    // Workers write these counts once a second (OpsRecorder), so the page may lag the chat by that.
    const picture = await until(async () => {
      const shown = await snapshot();
      return shown.models.find((m) => m.id === modelId)?.ttft ? shown : undefined;
    });
    const model = picture.models.find((m) => m.id === modelId)!;
    expect(model.ttft?.samples).toBe(1);
    // The chat and its title call.
    expect(model.history.at(-1)!.requests + model.history.at(-2)!.requests).toBeGreaterThanOrEqual(1);
    expect(model.history.reduce((sum, m) => sum + m.tokens, 0)).toBeGreaterThan(0);
    expect(picture.workers).toHaveLength(1);
    expect(picture.workers[0]!.draining).toBe(false);
    // The heartbeat that counted the chat running is replaced within a third of a period.
    await until(async () => {
      const [worker] = (await snapshot()).workers;
      return worker?.slotsInUse === 0 && worker.streams === 0 ? true : undefined;
    });
  });

  it('ops CLI: status, pause/resume, retry-failed and drain; a killed worker disappears within its heartbeat', async () => {
    const [worker] = (await snapshot()).workers;
    await ops('pause', 'summarize');
    expect((await ops('retry-failed', 'webhooks')).stdout).toContain('0 failed webhooks job(s)');
    await expect(ops('pause', 'nope')).rejects.toBeInstanceOf(UsageError);
    await expect(opsProcess('drain', 'no-such-worker')).rejects.toMatchObject({ code: 2 });
    const status = await opsProcess('status');
    expect(status.stdout).toContain(worker!.id);
    expect(status.stdout).toMatch(/chat\s+0\s+0\s+0\s+0\s+\d+\s+running/);
    expect(status.stdout).toMatch(/summarize\s+.*paused/);

    await ops('resume', 'summarize');
    expect((await ops('status')).stdout).toMatch(/summarize\s+.*running/);
    const drained = await ops('drain', worker!.id.slice(0, -2));
    expect(drained.stdout).toContain(`draining ${worker!.id}`);
    await until(async () => ((await snapshot()).workers[0]?.draining ? true : undefined));

    stack.workers[0]!.child.kill('SIGKILL');
    await until(async () => ((await snapshot()).workers.length === 0 ? true : undefined));
  });
});
