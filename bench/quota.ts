/**
 * Issue 3 benchmark: the quota governor with 1, 3 and 6 worker processes against an emulator that
 * enforces the same quota. Batch jobs (5x the quota) saturate the model while chats arrive; we
 * report admitted requests per window against the quota, 429s the emulator sent, and how long
 * chats waited for admission, also counted from when the window first had room for them.
 *
 *   npm run bench:quota          (QUOTA=30 WINDOW_MS=10000 WORKERS=1,3,6 by default)
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RequestRecord } from '@switchboard/bedrock-emulator';
import { ChatClient } from '../tests/integration/support/chat-client.js';
import { startStack } from '../tests/integration/support/stack.js';
import { pct } from './percentile.js';

const quota = Number(process.env.QUOTA ?? 30);
const windowMs = Number(process.env.WINDOW_MS ?? 10_000);
const workerCounts = (process.env.WORKERS ?? '1,3,6').split(',').map(Number);
const chats = Number(process.env.CHATS ?? 10);
const modelId = 'bench.quota';
const catalog = [
  {
    id: modelId,
    name: 'Quota bench model',
    maxOutputTokens: 4096,
    contextWindow: 200_000,
    quota: { requestsPerMinute: quota, tokensPerMinute: 100_000_000 },
    price: { inputPer1k: 0, outputPer1k: 0 },
    default: true,
  },
];
const modelsFile = join(mkdtempSync(join(tmpdir(), 'sb-bench-quota-')), 'models.json');
writeFileSync(modelsFile, JSON.stringify(catalog));

/** When the sliding window first had room after `at`, from what the emulator admitted before. */
function earliestAdmission(records: RequestRecord[], at: number): number {
  const inWindow = records.filter((r) => r.status === 200 && r.time > at - windowMs && r.time <= at).map((r) => r.time).sort((a, b) => a - b);
  return inWindow.length < quota ? at : inWindow[inWindow.length - quota]! + windowMs;
}

async function run(workers: number) {
  const stack = await startStack({
    apis: 1,
    workers,
    emulator: { models: catalog, windowMs, strict: true, tps: 200, ttfbMs: 50 },
    // Measures the governor, not the per-user limits.
    env: { MODELS_FILE: modelsFile, QUOTA_WINDOW_MS: String(windowMs), LOG_LEVEL: 'warn', WORKER_CONCURRENCY: '64', RATE_CHAT_CONCURRENT: '0', RATE_CHAT_PER_MINUTE: '0', RATE_JOBS_PER_MINUTE: '0' },
  });
  const records: RequestRecord[] = [];
  stack.emulator.on('request', (r) => records.push(r));
  try {
    const batchToken = await stack.token('batch', { scopes: ['jobs:read', 'jobs:write'] });
    const submit = (i: number) =>
      fetch(`${stack.apis[0]!.url}/v1/jobs/summarize`, {
        method: 'POST',
        headers: { authorization: `Bearer ${batchToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ modelId, text: `Batch document ${i}. Sales rose. [[emulator:tokens=40]]` }),
      });
    const batchJobs = quota * 5;
    await Promise.all(Array.from({ length: batchJobs }, (_, i) => submit(i)));

    // Chats arrive while batch saturates the model; each waits for its own admission.
    const client = await ChatClient.connect(stack.apis[0]!.url!, await stack.token('person'));
    await new Promise((r) => setTimeout(r, windowMs / 2));
    const waits: number[] = [];
    const sent: { sentAt: number; activeAt: number }[] = [];
    for (let i = 0; i < chats; i++) {
      const sentAt = Date.now();
      const ack = await client.send({ modelId, content: [{ type: 'text', text: `Quick question ${i} [[emulator:tokens=20]]` }] });
      if (!ack.ok) throw new Error(ack.error.message);
      await client.waitFor(() => (client.statuses.get(ack.jobId) ?? []).some((s) => s.state === 'active'), 120_000, 'chat admission');
      const activeAt = Date.now();
      waits.push(activeAt - sentAt);
      sent.push({ sentAt, activeAt });
      await new Promise((r) => setTimeout(r, 700));
    }
    client.close();
    while (records.filter((r) => r.status === 200).length < batchJobs + chats) await new Promise((r) => setTimeout(r, 200));

    // Records arrive when a request finishes, so the window at each send is judged once all are in.
    const beyond = sent.map(({ sentAt, activeAt }) => activeAt - earliestAdmission(records, sentAt));
    const ok = records.filter((r) => r.status === 200).sort((a, b) => a.time - b.time);
    const start = ok[0]!.time;
    const full = Math.floor((ok.at(-1)!.time - start) / windowMs);
    const perWindow = Array.from({ length: full }, (_, k) => ok.filter((r) => r.time >= start + k * windowMs && r.time < start + (k + 1) * windowMs).length);
    const utilization = perWindow.reduce((a, b) => a + b, 0) / (full * quota);
    return {
      workers,
      perWindow,
      utilization,
      throttles: records.filter((r) => r.status === 429).length,
      chatWaitP50: pct(waits, 50),
      chatWaitP95: pct(waits, 95),
      beyondP95: pct(beyond, 95),
    };
  } finally {
    await stack.stop();
  }
}

console.log(`quota ${quota} requests per ${windowMs / 1000} s window; ${quota * 5} batch jobs + ${chats} chats per run`);
console.log(`a slot frees every ${(windowMs / quota).toFixed(0)} ms on average (the chat's own admission interval)\n`);
console.log('workers  admitted per full window        utilization  429s  chat wait p50 / p95   p95 beyond its admission interval');
for (const n of workerCounts) {
  const r = await run(n);
  console.log(
    `${String(r.workers).padStart(7)}  ${r.perWindow.join(' ').padEnd(30)}  ${(r.utilization * 100).toFixed(1).padStart(9)} %  ${String(r.throttles).padStart(4)}  ${(r.chatWaitP50 / 1000).toFixed(2)} s / ${(r.chatWaitP95 / 1000).toFixed(2)} s   ${(r.beyondP95 / 1000).toFixed(2)} s`,
  );
}
