/**
 * Issue 2 benchmark: what the queue path (Socket.IO → API → BullMQ → worker → Redis stream → API
 * → socket) adds over calling the emulator directly from one process, at N concurrent chats.
 *
 *   npm run bench:chat            (CHATS=200 TOKENS=200 TPS=50 TTFB=200 WORKERS=1 by default)
 *
 * Both runs stream the same deterministic answers from one emulator process. Time to first token
 * (TTFT) is send → first text. Per-delta latency is each token's arrival measured against the
 * emulator's own schedule (first token + i / tps), so only the path's delay counts.
 *
 * Steady state (the headline): N clients each chat ROUNDS times back to back, their starts spread
 * over one answer's duration, so N chats stream at once and arrive at N / answer-duration per
 * second. Burst: all N sent in the same instant, which mostly measures how fast one API node
 * stores N turns at once.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { BedrockRuntimeClient, ConverseStreamCommand } from '@aws-sdk/client-bedrock-runtime';
import { emulatorAnswer } from '@switchboard/bedrock-emulator';
import { ChatClient } from '../tests/integration/support/chat-client.js';
import { spawnProcess, type Stack, startStack, stopProcess } from '../tests/integration/support/stack.js';

const chats = Number(process.env.CHATS ?? 200);
const tokens = Number(process.env.TOKENS ?? 200);
const tps = Number(process.env.TPS ?? 50);
const ttfb = Number(process.env.TTFB ?? 200);
const rounds = Number(process.env.ROUNDS ?? 3);
const workers = Number(process.env.WORKERS ?? 1);
const answerMs = ttfb + (tokens * 1000) / tps;
type Mode = 'steady' | 'burst';
const startDelay = (mode: Mode) => (mode === 'burst' ? 0 : Math.random() * answerMs);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
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

type Run = { ttft: number[]; lag: number[]; deltas: number; seconds: number; cpu?: string };

/**
 * Where the CPU went during a run (Linux /proc): the machine's busy share of all its cores, and
 * each process of ours (this one is the load generator). On a machine near 100 % busy, latency is
 * mostly waiting for a core, whatever the path does.
 */
function cpuMeter(pids: Record<string, number | undefined>): () => string {
  const ticks = (pid: number) => {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return Number(fields[11]) + Number(fields[12]); // utime + stime, in 1/100 s
  };
  const machine = () => {
    const v = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    return { idle: v[3]! + v[4]!, total: v.reduce((a, b) => a + b, 0) };
  };
  try {
    const started = { at: performance.now(), machine: machine(), self: process.cpuUsage(), procs: Object.entries(pids).map(([n, pid]) => [n, pid!, ticks(pid!)] as const) };
    return () => {
      const seconds = (performance.now() - started.at) / 1000;
      const m = machine();
      const busy = 1 - (m.idle - started.machine.idle) / (m.total - started.machine.total);
      const self = process.cpuUsage(started.self);
      const parts = started.procs.map(([name, pid, t]) => `${name} ${((ticks(pid) - t) / seconds).toFixed(0)}%`);
      parts.push(`load generator ${(((self.user + self.system) / 1e6 / seconds) * 100).toFixed(0)}%`);
      return `machine ${(busy * 100).toFixed(0)}% busy (${availableParallelism()} cores); of one core: ${parts.join(', ')}`;
    };
  } catch {
    return () => 'n/a (no /proc)';
  }
}

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

async function direct(url: string, mode: Mode): Promise<Run> {
  const cpu = cpuMeter({ emulator: emulatorProc.child.pid });
  const client = new BedrockRuntimeClient({ endpoint: url, region: 'us-east-1', maxAttempts: 1, credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
  const ttft: number[] = [];
  const lag: number[] = [];
  let deltas = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: chats }, async (_, i) => {
      await sleep(startDelay(mode));
      for (let round = 0; round < (mode === 'burst' ? 1 : rounds); round++) {
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
      }
    }),
  );
  client.destroy();
  return { ttft, lag, deltas, seconds: (performance.now() - started) / 1000, cpu: cpu() };
}

async function throughQueue(stack: Stack, mode: Mode): Promise<Run> {
  const clients = await Promise.all(Array.from({ length: chats }, async (_, i) => ChatClient.connect(stack.apis[0]!.url!, await stack.token(`bench${i}`))));
  const ttft: number[] = [];
  const lag: number[] = [];
  let deltas = 0;
  const started = performance.now();
  const cpu = cpuMeter({
    emulator: emulatorProc.child.pid,
    ...Object.fromEntries([...stack.apis, ...stack.workers].map((p) => [p.name, p.child.pid])),
  });
  await Promise.all(
    clients.map(async (client, i) => {
      await sleep(startDelay(mode));
      for (let round = 0; round < (mode === 'burst' ? 1 : rounds); round++) {
        const clock = new TokenClock(expectedTokens(i));
        let sent = 0;
        const onDelta = (e: { text: string }) => {
          const now = performance.now();
          deltas++;
          if (clock.arrivals.length === 0) ttft.push(now - sent);
          clock.add(e.text, now);
        };
        client.socket.on('chat:delta', onDelta);
        sent = performance.now();
        const ack = await client.send({ content: [{ type: 'text', text: prompt(i) }] });
        if (!ack.ok) throw new Error(ack.error.message);
        await client.waitForEnd(ack.jobId, 120_000);
        client.socket.off('chat:delta', onDelta);
        lag.push(...clock.lags());
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const cpuUsed = cpu();
  for (const c of clients) c.close();
  return { ttft, lag, deltas, seconds, cpu: cpuUsed };
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
await direct(emulatorUrl, 'burst');
const stack = await startStack({ apis: 1, workers, emulatorUrl, env: { WORKER_CONCURRENCY: String(Math.max(Math.ceil(chats / workers), 64)), MODELS_FILE: catalogFile, LOG_LEVEL: 'warn' } });
const report = (title: string, d: Run, q: Run, chatsRun: number) => {
  console.log(`\n${title}`);
  console.log('                      p50        p99');
  console.log(`TTFT direct       ${ms(pct(d.ttft, 50)).padStart(9)}  ${ms(pct(d.ttft, 99)).padStart(9)}`);
  console.log(`TTFT queue path   ${ms(pct(q.ttft, 50)).padStart(9)}  ${ms(pct(q.ttft, 99)).padStart(9)}`);
  console.log(`TTFT added        ${ms(pct(q.ttft, 50) - pct(d.ttft, 50)).padStart(9)}  ${ms(pct(q.ttft, 99) - pct(d.ttft, 99)).padStart(9)}   (target p50 <= 15 ms)`);
  console.log(`delta lag direct  ${ms(pct(d.lag, 50)).padStart(9)}  ${ms(pct(d.lag, 99)).padStart(9)}`);
  console.log(`delta lag queue   ${ms(pct(q.lag, 50)).padStart(9)}  ${ms(pct(q.lag, 99)).padStart(9)}`);
  console.log(`delta lag added   ${ms(pct(q.lag, 50) - pct(d.lag, 50)).padStart(9)}  ${ms(pct(q.lag, 99) - pct(d.lag, 99)).padStart(9)}   (target p99 <= 10 ms)`);
  console.log(`CPU direct: ${d.cpu}`);
  console.log(`CPU queue path: ${q.cpu}`);
  console.log(`deltas/s through one API node: ${(q.deltas / q.seconds).toFixed(0)} (${q.deltas} socket deltas carrying ${tokens * chatsRun} tokens in ${q.seconds.toFixed(1)} s)`);
};
try {
  await throughQueue(stack, 'burst');
  console.log(`\n${chats} concurrent chats, ${tokens} tokens each at ${tps} tokens/s, emulator TTFB ${ttfb} ms`);
  report(`steady: ${chats} clients x ${rounds} chats back to back, starts spread over ${(answerMs / 1000).toFixed(1)} s`, await direct(emulatorUrl, 'steady'), await throughQueue(stack, 'steady'), chats * rounds);
  report(`burst: all ${chats} sent at once`, await direct(emulatorUrl, 'burst'), await throughQueue(stack, 'burst'), chats);
} finally {
  await stack.stop();
  await stopProcess(emulatorProc);
}
