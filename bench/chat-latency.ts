/**
 * Issue 2 benchmark: what the queue path (Socket.IO → API → BullMQ → worker → Redis stream → API
 * → socket) adds over calling the emulator directly from one process, at N concurrent chats.
 *
 *   npm run bench:chat            (CHATS=200 TOKENS=200 TPS=50 TTFB=200 by default)
 *
 * Both runs stream the same deterministic answers from one emulator process. Time to first token
 * (TTFT) is send → first text. Per-delta latency is each token's arrival measured against the
 * emulator's own schedule (first token + i / tps), so only the path's delay counts.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BedrockRuntimeClient, ConverseStreamCommand } from '@aws-sdk/client-bedrock-runtime';
import { emulatorAnswer } from '@switchboard/bedrock-emulator';
import { ChatClient } from '../tests/integration/support/chat-client.js';
import { spawnProcess, startStack, stopProcess } from '../tests/integration/support/stack.js';

const chats = Number(process.env.CHATS ?? 200);
const tokens = Number(process.env.TOKENS ?? 200);
const tps = Number(process.env.TPS ?? 50);
const ttfb = Number(process.env.TTFB ?? 200);
const modelId = 'bench.model';
// A quota far above the load: this benchmark measures the path, not the governor's waiting.
const catalogFile = join(mkdtempSync(join(tmpdir(), 'sb-bench-')), 'models.json');
writeFileSync(
  catalogFile,
  JSON.stringify([
    {
      id: modelId,
      name: 'Bench model',
      maxOutputTokens: 4096,
      contextWindow: 200_000,
      quota: { requestsPerMinute: 1_000_000, tokensPerMinute: 1_000_000_000 },
      price: { inputPer1k: 0, outputPer1k: 0 },
      default: true,
    },
  ]),
);
const root = join(import.meta.dirname, '..');

type Run = { ttft: number[]; lag: number[]; deltas: number; seconds: number };

const prompt = (i: number) => `Benchmark chat ${i} [[emulator:tokens=${tokens}]]`;
const expectedTokens = (i: number) =>
  emulatorAnswer({ modelId, messages: [{ role: 'user', content: [{ text: prompt(i) }] }], maxTokens: 4096 }).tokens;

/** Records when each token of the answer arrived, from the cumulative text length. */
class TokenClock {
  private readonly ends: number[];
  private next = 0;
  private chars = 0;
  readonly arrivals: number[] = [];
  constructor(tokenTexts: string[]) {
    let sum = 0;
    this.ends = tokenTexts.map((t) => (sum += t.length));
  }
  add(text: string, at: number) {
    this.chars += text.length;
    while (this.next < this.ends.length && this.ends[this.next]! <= this.chars) {
      this.arrivals.push(at);
      this.next++;
    }
  }
  /** How late each token came against first token + i / tps. */
  lags(): number[] {
    const first = this.arrivals[0]!;
    return this.arrivals.map((t, i) => t - (first + (i * 1000) / tps));
  }
}

async function direct(url: string): Promise<Run> {
  const client = new BedrockRuntimeClient({ endpoint: url, region: 'us-east-1', maxAttempts: 1, credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
  const ttft: number[] = [];
  const lag: number[] = [];
  let deltas = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: chats }, async (_, i) => {
      const clock = new TokenClock(expectedTokens(i));
      const sent = performance.now();
      const res = await client.send(
        new ConverseStreamCommand({ modelId, messages: [{ role: 'user', content: [{ text: prompt(i) }] }], inferenceConfig: { maxTokens: 4096 } }),
      );
      for await (const event of res.stream!) {
        const text = event.contentBlockDelta?.delta?.text;
        if (!text) continue;
        const now = performance.now();
        deltas++;
        if (clock.arrivals.length === 0) ttft.push(now - sent);
        clock.add(text, now);
      }
      lag.push(...clock.lags());
    }),
  );
  client.destroy();
  return { ttft, lag, deltas, seconds: (performance.now() - started) / 1000 };
}

async function throughQueue(apiUrl: string, tokenFor: (u: string) => Promise<string>): Promise<Run> {
  const clients = await Promise.all(Array.from({ length: chats }, async (_, i) => ChatClient.connect(apiUrl, await tokenFor(`bench${i}`))));
  const ttft: number[] = [];
  const lag: number[] = [];
  let deltas = 0;
  const started = performance.now();
  await Promise.all(
    clients.map(async (client, i) => {
      const clock = new TokenClock(expectedTokens(i));
      let sent = 0;
      let jobId = '';
      client.socket.on('chat:delta', (e: { jobId: string; text: string }) => {
        const now = performance.now();
        deltas++;
        if (clock.arrivals.length === 0) ttft.push(now - sent);
        clock.add(e.text, now);
      });
      sent = performance.now();
      const ack = await client.send({ content: [{ type: 'text', text: prompt(i) }] });
      if (!ack.ok) throw new Error(ack.error.message);
      jobId = ack.jobId;
      await client.waitForEnd(jobId, 120_000);
      lag.push(...clock.lags());
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  for (const c of clients) c.close();
  return { ttft, lag, deltas, seconds };
}

const pct = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
};
const ms = (n: number) => `${n.toFixed(1)} ms`;

const emulatorProc = await spawnProcess(
  'emulator',
  join(root, 'libs/bedrock-emulator/dist/cli.js'),
  {},
  /listening on (http:\S+)/,
  ['--port', '0', '--tps', String(tps), '--ttfb', String(ttfb)],
);
const emulatorUrl = emulatorProc.url!;
// Warm both paths, then measure.
await direct(emulatorUrl);
const stack = await startStack({ apis: 1, workers: 1, emulatorUrl, env: { WORKER_CONCURRENCY: String(Math.max(chats, 64)), MODELS_FILE: catalogFile, LOG_LEVEL: 'warn' } });
try {
  const directRun = await direct(emulatorUrl);
  await throughQueue(stack.apis[0]!.url!, stack.token);
  const queueRun = await throughQueue(stack.apis[0]!.url!, stack.token);
  console.log(`\n${chats} concurrent chats, ${tokens} tokens each at ${tps} tokens/s, emulator TTFB ${ttfb} ms`);
  console.log('                      p50        p99');
  console.log(`TTFT direct       ${ms(pct(directRun.ttft, 50)).padStart(9)}  ${ms(pct(directRun.ttft, 99)).padStart(9)}`);
  console.log(`TTFT queue path   ${ms(pct(queueRun.ttft, 50)).padStart(9)}  ${ms(pct(queueRun.ttft, 99)).padStart(9)}`);
  console.log(`TTFT added        ${ms(pct(queueRun.ttft, 50) - pct(directRun.ttft, 50)).padStart(9)}  ${ms(pct(queueRun.ttft, 99) - pct(directRun.ttft, 99)).padStart(9)}   (target p50 <= 15 ms)`);
  console.log(`delta lag direct  ${ms(pct(directRun.lag, 50)).padStart(9)}  ${ms(pct(directRun.lag, 99)).padStart(9)}`);
  console.log(`delta lag queue   ${ms(pct(queueRun.lag, 50)).padStart(9)}  ${ms(pct(queueRun.lag, 99)).padStart(9)}`);
  console.log(`delta lag added   ${ms(pct(queueRun.lag, 50) - pct(directRun.lag, 50)).padStart(9)}  ${ms(pct(queueRun.lag, 99) - pct(directRun.lag, 99)).padStart(9)}   (target p99 <= 10 ms)`);
  console.log(`deltas/s through one API node: ${(queueRun.deltas / queueRun.seconds).toFixed(0)} (${queueRun.deltas} socket deltas carrying ${chats * tokens} tokens in ${queueRun.seconds.toFixed(1)} s)`);
} finally {
  await stack.stop();
  await stopProcess(emulatorProc);
}
