/**
 * Issue 19 benchmark: what the queue path (Socket.IO → API → BullMQ → worker → Redis stream → API
 * → socket) adds over calling the emulator directly with the AWS SDK, measured from outside.
 *
 *   npm run bench:chat    (CHATS=200 SPREAD_MS=2000 TOKENS=40 TPS=20 TTFB=200 WORKERS=1 by default)
 *
 * Load: CHATS streams arriving evenly over SPREAD_MS, each answering TOKENS tokens at TPS tokens/s
 * after the emulator's TTFB. One emulator process serves both paths. In order:
 *   direct warm-up (unmeasured) → boot the stack → direct → queue COLD (first burst after boot,
 *   also the warm-up of the queue path) → direct → queue WARM (× WARM_ROUNDS).
 * Each queue round is compared with the direct round just before it. After each of the product's
 * queue rounds the same load goes through the issue's bare pipeline (bench/bare: socket → one
 * Postgres insert → BullMQ → SDK call → the product's append script → relay, nothing else) on
 * the same Redis, database and emulator, against the same direct round: the floor on this machine
 * in this run, which the report sets the product against (BENCH_BARE=0 leaves it out).
 * TTFT is send → first text; per-token latency is each token's arrival against the emulator's
 * schedule (first token + i/tps), so only the path's own delay counts.
 *
 * Per-hop timings come from stamps the worker puts in the job's stream entries (never sent to
 * clients, see StreamStamps): send (here) → enqueue (BullMQ's job timestamp, ms) → pickup →
 * request sent to Bedrock (SDK send) → first text back (≈ request at Bedrock + TTFB) → appended
 * (handed to Redis) → socket (here). All on one machine's wall clock. `first append→socket` is the
 * answer's first entry alone (it does not linger, see STREAM_APPEND_LINGER_MS): the last hop of TTFT.
 *
 * CPU: each process's utime+stime from /proc/<pid>/stat over the round — API, workers, our
 * Postgres backends (`postgres: … <our database>`), Redis (shared with others: its rate in the
 * second before the round is subtracted), emulator, load generator, and Postgres's server
 * processes (WAL writer, checkpointer, background writer, autovacuum: shared by every database,
 * so shown but left out of the stack figure); and the machine's busy share of everyone else
 * (/proc/stat minus ours). System calls: each process's read and write calls
 * from /proc/<pid>/io (syscr + syscw; Postgres uses send/recv, which these leave out) — a count of
 * I/O work that the host's drifting speed does not change.
 *
 * Ports and servers come from settings: REDIS_URL and TEST_DATABASE_URL (libs/testing), the API's
 * PORT (0: ephemeral unless BENCH_API_PORT), the emulator's EMULATOR_PORT (0 unless set).
 * BASELINE_CPU_MS (stack CPU ms per chat of an earlier run) turns the CPU target into met / NOT met.
 * BENCH_OUT=file appends the run's figures as one JSON line (for medians over runs).
 * WARM_ROUNDS > 1: the targets (and BENCH_OUT's warm figures) are each figure's median over the warm rounds.
 */
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { BedrockRuntimeClient, ConverseStreamCommand } from '@aws-sdk/client-bedrock-runtime';
import { Redis } from 'ioredis';
import { emulatorAnswer } from '@switchboard/bedrock-emulator';
import { type StreamEntry, jobStreamKey } from '@switchboard/server-core';
import { ChatClient } from '../tests/integration/support/chat-client.js';
import { loseRedisData, type Proc, spawnProcess, startStack, stopProcess } from '../tests/integration/support/stack.js';

const chats = Number(process.env.CHATS ?? 200);
const spreadMs = Number(process.env.SPREAD_MS ?? 2000);
const tokens = Number(process.env.TOKENS ?? 40);
const tps = Number(process.env.TPS ?? 20);
const ttfb = Number(process.env.TTFB ?? 200);
const warmRounds = Number(process.env.WARM_ROUNDS ?? 1);
const workers = Number(process.env.WORKERS ?? 1);
const baselineCpuMs = process.env.BASELINE_CPU_MS ? Number(process.env.BASELINE_CPU_MS) : undefined;
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

// ---------------------------------------------------------------- CPU

const ticksOf = (pid: number) => {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return Number(fields[11]) + Number(fields[12]); // utime + stime, in 1/100 s
  } catch {
    return undefined; // gone
  }
};
/** Read and write system calls so far (/proc/<pid>/io): a count of I/O work that the host's speed does not change. */
const syscallsOf = (pid: number) => {
  try {
    const io = readFileSync(`/proc/${pid}/io`, 'utf8');
    return Number(/syscr: (\d+)/.exec(io)?.[1] ?? 0) + Number(/syscw: (\d+)/.exec(io)?.[1] ?? 0);
  } catch {
    return undefined; // gone, or not ours to read
  }
};
const machineTicks = () => {
  const v = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  return { idle: v[3]! + v[4]!, total: v.reduce((a, b) => a + b, 0) };
};
/** Processes whose command line matches, by pid (e.g. our database's Postgres backends). */
const pidsMatching = (test: (cmdline: string) => boolean): number[] => {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (test(readFileSync(`/proc/${name}/cmdline`, 'utf8').replaceAll('\0', ' '))) out.push(Number(name));
    } catch {
      // exited meanwhile
    }
  }
  return out;
};

type Cpu = {
  seconds: number;
  msByProcess: Record<string, number>;
  /** Read and write system calls per process over the round. */
  syscallsByProcess: Record<string, number>;
  otherBusyShare: number;
  machineBusyShare: number;
};

/**
 * Starts counting CPU for the named processes (and any Postgres backend of `database` that appears
 * meanwhile); the returned function stops and gives CPU ms per process and the share of the
 * machine other processes kept busy.
 */
function cpuMeter(pids: Record<string, number | undefined>, database?: string, redisIdlePerSec = 0): () => Cpu {
  const ourBackend = (c: string) => c.startsWith('postgres:') && c.includes(` ${database} `);
  const pgPids = () => (database ? pidsMatching(ourBackend) : []);
  // The server's own processes (postmaster, WAL writer, checkpointer, background writer,
  // autovacuum): the writes of every database make their work, ours in a run. Not client backends.
  const pgServerPids = () =>
    database ? pidsMatching((c) => (c.startsWith('postgres:') || c.includes('/bin/postgres ')) && !/\(\d+\)|\[local\]/.test(c) && !ourBackend(c)) : [];
  const redisPid = pidsMatching((c) => c.startsWith('redis-server'))[0];
  const named = Object.entries(pids).filter((e): e is [string, number] => e[1] !== undefined);
  if (redisPid) named.push(['redis', redisPid]);
  const started = {
    at: performance.now(),
    machine: machineTicks(),
    self: process.cpuUsage(),
    named: named.map(([n, pid]) => [n, pid, ticksOf(pid) ?? 0, syscallsOf(pid) ?? 0] as const),
    pg: new Map(pgPids().map((pid) => [pid, ticksOf(pid) ?? 0])),
    pgServer: new Map(pgServerPids().map((pid) => [pid, ticksOf(pid) ?? 0])),
  };
  return () => {
    const seconds = (performance.now() - started.at) / 1000;
    const m = machineTicks();
    const msByProcess: Record<string, number> = {};
    const syscallsByProcess: Record<string, number> = {};
    let ourTicks = 0;
    for (const [name, pid, t, calls] of started.named) {
      const used = (ticksOf(pid) ?? t) - t;
      ourTicks += used;
      const group = name.replace(/-\d+$/, '');
      msByProcess[group] = (msByProcess[group] ?? 0) + used * 10;
      syscallsByProcess[group] = (syscallsByProcess[group] ?? 0) + (syscallsOf(pid) ?? calls) - calls;
    }
    if (msByProcess.redis !== undefined) msByProcess.redis = Math.max(0, msByProcess.redis - redisIdlePerSec * seconds);
    let pg = 0;
    for (const pid of pgPids()) pg += (ticksOf(pid) ?? 0) - (started.pg.get(pid) ?? 0); // a backend gone meanwhile is lost
    ourTicks += pg;
    msByProcess.postgres = pg * 10;
    if (database) {
      let server = 0;
      for (const pid of pgServerPids()) server += (ticksOf(pid) ?? 0) - (started.pgServer.get(pid) ?? 0);
      ourTicks += server;
      msByProcess['postgres server'] = server * 10;
    }
    const self = process.cpuUsage(started.self);
    const selfTicks = (self.user + self.system) / 1e4;
    ourTicks += selfTicks;
    msByProcess['load generator'] = selfTicks * 10;
    const total = m.total - started.machine.total;
    const busy = total - (m.idle - started.machine.idle);
    return { seconds, msByProcess, syscallsByProcess, otherBusyShare: Math.max(0, busy - ourTicks) / total, machineBusyShare: busy / total };
  };
}

/** Redis's own CPU rate while our stack idles (other sessions share it), in ms per second. */
async function redisIdleRate(): Promise<number> {
  const pid = pidsMatching((c) => c.startsWith('redis-server'))[0];
  if (!pid) return 0;
  const before = ticksOf(pid) ?? 0;
  const t = performance.now();
  await sleep(1000);
  return (((ticksOf(pid) ?? before) - before) * 10) / ((performance.now() - t) / 1000);
}

// ---------------------------------------------------------------- load

const prompt = (i: number) => `Benchmark chat ${i} [[emulator:tokens=${tokens}]]`;
const expectedTokens = (i: number) =>
  emulatorAnswer({ modelId, messages: [{ role: 'user', content: [{ text: prompt(i) }] }], maxTokens: 4096 }).tokens;
const arrival = (i: number) => (i * spreadMs) / chats;

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

type Hops = Record<'send→enqueue' | 'queue wait' | 'pickup→SDK send' | 'pickup→Bedrock request' | 'Bedrock→append' | 'append→socket' | 'first append→socket', number[]>;
type Run = { ttft: number[]; lag: number[]; cpu: Cpu; hops?: Hops; lost: number };

async function direct(url: string): Promise<Run> {
  const client = new BedrockRuntimeClient({ endpoint: url, region: 'us-east-1', maxAttempts: 1, credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
  const cpu = cpuMeter({ emulator: emulatorProc.child.pid });
  const ttft: number[] = [];
  const lag: number[] = [];
  let lost = 0;
  await Promise.all(
    Array.from({ length: chats }, async (_, i) => {
      await sleep(arrival(i));
      const clock = new TokenClock(expectedTokens(i));
      const sent = performance.now();
      const res = await client.send(
        new ConverseStreamCommand({ modelId, messages: [{ role: 'user', content: [{ text: prompt(i) }] }], inferenceConfig: { maxTokens: 4096 } }),
      );
      for await (const event of res.stream!) {
        const text = event.contentBlockDelta?.delta?.text;
        if (!text) continue;
        const now = performance.now();
        if (clock.arrivals.length === 0) ttft.push(now - sent);
        clock.add(text, now);
      }
      if (clock.arrivals.length !== tokens) lost++;
      lag.push(...clock.lags());
    }),
  );
  const used = cpu();
  client.destroy();
  return { ttft, lag, cpu: used, lost };
}

/** Every chat this run sent through the queue (their streams are deleted at the end). */
const ranJobs: string[] = [];

/** The processes a queue round measures: the product's API and workers, or the bare pipeline's. */
type Path = { pids: Record<string, number | undefined>; database: string };

async function throughQueue(path: Path, clients: ChatClient[], redis: Redis): Promise<Run> {
  const idle = await redisIdleRate();
  const cpu = cpuMeter(
    { emulator: emulatorProc.child.pid, ...path.pids },
    path.database,
    idle,
  );
  const ttft: number[] = [];
  const lag: number[] = [];
  let lost = 0;
  const jobs: { jobId: string; sentAt: number; seen: Map<number, number> }[] = [];
  await Promise.all(
    clients.map(async (client, i) => {
      await sleep(arrival(i));
      const expected = expectedTokens(i);
      const clock = new TokenClock(expected);
      const seen = new Map<number, number>();
      let sent = 0;
      const onDelta = (e: { text: string; seq: number }) => {
        const now = performance.now();
        seen.set(e.seq, performance.timeOrigin + now);
        if (clock.arrivals.length === 0) ttft.push(now - sent);
        clock.add(e.text, now);
      };
      client.socket.on('chat:delta', onDelta);
      sent = performance.now();
      const sentAt = performance.timeOrigin + sent;
      const ack = await client.send({ content: [{ type: 'text', text: prompt(i) }] });
      if (!ack.ok) throw new Error(ack.error.message);
      jobs.push({ jobId: ack.jobId, sentAt, seen });
      ranJobs.push(ack.jobId);
      await client.waitForEnd(ack.jobId, 120_000);
      client.socket.off('chat:delta', onDelta);
      if (client.done.get(ack.jobId)?.text !== expected.join('') || clock.arrivals.length !== tokens) lost++;
      lag.push(...clock.lags());
    }),
  );
  const used = cpu();
  // The stamps, read after the round (the streams live an hour).
  const hops: Hops = { 'send→enqueue': [], 'queue wait': [], 'pickup→SDK send': [], 'pickup→Bedrock request': [], 'Bedrock→append': [], 'append→socket': [], 'first append→socket': [] };
  const pipeline = redis.pipeline();
  for (const j of jobs) pipeline.xrange(jobStreamKey(j.jobId), '-', '+');
  const results = (await pipeline.exec())!;
  jobs.forEach((j, n) => {
    const rows = (results[n]![1] ?? []) as [string, string[]][];
    const entries = rows.map(([, f]) => JSON.parse(f[1]!) as StreamEntry & { tm?: [number, number]; hop?: [number, number, number] });
    for (const e of entries) {
      if (e.kind !== 'delta' || !e.tm) continue;
      if (e.hop) {
        const [enqueued, picked, sdkSent] = e.hop;
        hops['send→enqueue'].push(enqueued - j.sentAt);
        hops['queue wait'].push(picked - enqueued);
        hops['pickup→SDK send'].push(sdkSent - picked);
        hops['pickup→Bedrock request'].push(e.tm[0] - ttfb - picked);
      }
      hops['Bedrock→append'].push(e.tm[1] - e.tm[0]);
      const at = j.seen.get(e.seq);
      if (at !== undefined) hops['append→socket'].push(at - e.tm[1]);
      if (at !== undefined && e.hop) hops['first append→socket'].push(at - e.tm[1]);
    }
  });
  return { ttft, lag, cpu: used, hops, lost };
}

// ---------------------------------------------------------------- report

const pct = (values: number[], p: number) => {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
};
const ms = (n: number) => `${n.toFixed(1)} ms`.padStart(9);
const stackProcesses = ['api', 'worker', 'redis', 'postgres'];
const perChat = (cpu: Cpu) => Object.fromEntries(Object.entries(cpu.msByProcess).map(([k, v]) => [k, v / chats]));
const stackPerChat = (cpu: Cpu) => stackProcesses.reduce((sum, k) => sum + (cpu.msByProcess[k] ?? 0), 0) / chats;

type Figures = {
  ttftP50: number;
  ttftP99: number;
  tokenP50: number;
  tokenP99: number;
  hops: Record<string, [number, number]>;
  cpuMsPerChat: Record<string, number>;
  stackCpuMsPerChat: number;
  /** Read and write system calls per chat of the API, workers and Redis. */
  syscallsPerChat: Record<string, number>;
  /** The direct round's CPU per chat (emulator + load generator): the same work every run, so a measure of the machine's speed. */
  referenceCpuMsPerChat: number;
  otherBusy: number;
  lost: number;
};

function report(title: string, d: Run, q: Run): Figures {
  console.log(`\n${title}`);
  console.log('                          p50        p99');
  console.log(`TTFT direct           ${ms(pct(d.ttft, 50))}  ${ms(pct(d.ttft, 99))}`);
  console.log(`TTFT queue path       ${ms(pct(q.ttft, 50))}  ${ms(pct(q.ttft, 99))}`);
  const f: Figures = {
    ttftP50: pct(q.ttft, 50) - pct(d.ttft, 50),
    ttftP99: pct(q.ttft, 99) - pct(d.ttft, 99),
    tokenP50: pct(q.lag, 50) - pct(d.lag, 50),
    tokenP99: pct(q.lag, 99) - pct(d.lag, 99),
    hops: Object.fromEntries(Object.entries(q.hops!).map(([k, v]) => [k, [pct(v, 50), pct(v, 99)]])),
    cpuMsPerChat: perChat(q.cpu),
    stackCpuMsPerChat: stackPerChat(q.cpu),
    // Not Postgres's: its backends talk over send/recv, which /proc/<pid>/io leaves out.
    syscallsPerChat: Object.fromEntries(['api', 'worker', 'redis'].map((k) => [k, (q.cpu.syscallsByProcess[k] ?? 0) / chats])),
    referenceCpuMsPerChat: ((d.cpu.msByProcess.emulator ?? 0) + (d.cpu.msByProcess['load generator'] ?? 0)) / chats,
    otherBusy: q.cpu.otherBusyShare,
    lost: q.lost + d.lost,
  };
  console.log(`TTFT added            ${ms(f.ttftP50)}  ${ms(f.ttftP99)}`);
  console.log(`per-token lag direct  ${ms(pct(d.lag, 50))}  ${ms(pct(d.lag, 99))}`);
  console.log(`per-token lag queue   ${ms(pct(q.lag, 50))}  ${ms(pct(q.lag, 99))}`);
  console.log(`per-token added       ${ms(f.tokenP50)}  ${ms(f.tokenP99)}`);
  console.log('hops (queue path)');
  for (const [k, [p50, p99]] of Object.entries(f.hops)) console.log(`  ${k.padEnd(22)}${ms(p50)}  ${ms(p99)}`);
  console.log(
    `CPU ms per chat: ${Object.entries(f.cpuMsPerChat).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', ')}; stack (API+workers+Redis+Postgres) ${f.stackCpuMsPerChat.toFixed(1)}`,
  );
  console.log(`system calls (read + write) per chat: ${Object.entries(f.syscallsPerChat).map(([k, v]) => `${k} ${v.toFixed(0)}`).join(', ')}`);
  // This machine's speed drifts (a shared host: the same work took 0.6 to 1.1 s of CPU within a
  // minute); the direct round just before does the same work every run, so the ratio compares runs.
  console.log(
    `speed reference: the direct round took ${f.referenceCpuMsPerChat.toFixed(2)} ms CPU per chat (emulator + load generator); stack CPU per chat / reference ${(f.stackCpuMsPerChat / f.referenceCpuMsPerChat).toFixed(2)}`,
  );
  console.log(
    `machine: ${(q.cpu.machineBusyShare * 100).toFixed(0)}% busy during the queue round, ${(q.cpu.otherBusyShare * 100).toFixed(0)}% by other processes (direct round: ${(d.cpu.otherBusyShare * 100).toFixed(0)}%), ${availableParallelism()} cores`,
  );
  if (f.lost) console.log(`LOST: ${f.lost} answers incomplete or wrong`);
  return f;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
function medianFigures(rounds: Figures[]): Figures {
  const each = (pick: (f: Figures) => number) => median(rounds.map(pick));
  const keys = <K extends 'hops' | 'cpuMsPerChat' | 'syscallsPerChat'>(k: K) => Object.keys(rounds[0]![k]);
  return {
    ttftP50: each((f) => f.ttftP50),
    ttftP99: each((f) => f.ttftP99),
    tokenP50: each((f) => f.tokenP50),
    tokenP99: each((f) => f.tokenP99),
    hops: Object.fromEntries(keys('hops').map((h) => [h, [each((f) => f.hops[h]![0]), each((f) => f.hops[h]![1])]])),
    cpuMsPerChat: Object.fromEntries(keys('cpuMsPerChat').map((p) => [p, each((f) => f.cpuMsPerChat[p] ?? 0)])),
    stackCpuMsPerChat: each((f) => f.stackCpuMsPerChat),
    syscallsPerChat: Object.fromEntries(keys('syscallsPerChat').map((p) => [p, each((f) => f.syscallsPerChat[p] ?? 0)])),
    referenceCpuMsPerChat: each((f) => f.referenceCpuMsPerChat),
    otherBusy: each((f) => f.otherBusy),
    lost: rounds.reduce((n, f) => n + f.lost, 0),
  };
}

const verdict = (ok: boolean) => (ok ? 'met' : 'NOT met');

// ---------------------------------------------------------------- the bare pipeline

const withBare = process.env.BENCH_BARE !== '0';

/** Starts bench/bare's API and worker; `stop` ends them and removes their queue's keys. */
async function startBare(databaseUrl: string, redisUrl: string) {
  const env = { REDIS_URL: redisUrl, DATABASE_URL: databaseUrl, AWS_ENDPOINT_URL_BEDROCK_RUNTIME: emulatorUrl, MODEL_ID: modelId, CONCURRENCY: String(Math.max(chats, 64)) };
  const api: Proc = await spawnProcess('bare-api', join(root, 'bench/bare/api.mjs'), env, /listening on (http:\S+)/);
  const worker: Proc = await spawnProcess('bare-worker', join(root, 'bench/bare/worker.mjs'), env, /(worker ready)/).catch(async (err: unknown) => {
    await stopProcess(api);
    throw err;
  });
  return {
    api,
    path: { pids: { api: api.child.pid, worker: worker.child.pid }, database: new URL(databaseUrl).pathname.slice(1) } satisfies Path,
    async stop(redis: Redis) {
      await Promise.all([stopProcess(api), stopProcess(worker)]);
      for await (const keys of redis.scanStream({ match: '{bare}:*', count: 1000 })) if ((keys as string[]).length) await redis.del(...(keys as string[]));
    },
  };
}

// ---------------------------------------------------------------- run

const emulatorProc = await spawnProcess('emulator', join(root, 'libs/bedrock-emulator/dist/cli.js'), {}, /listening on (http:\S+)/, [
  '--port', process.env.EMULATOR_PORT ?? '0', '--tps', String(tps), '--ttfb', String(ttfb),
]);
const emulatorUrl = emulatorProc.url!;
await direct(emulatorUrl); // warm-up, unmeasured
const stack = await startStack({
  apis: 1,
  workers,
  emulatorUrl,
  productionDefaults: true,
  env: {
    WORKER_CONCURRENCY: String(Math.max(Math.ceil(chats / workers), 64)),
    MODELS_FILE: catalogFile,
    LOG_LEVEL: 'warn',
    PORT: process.env.BENCH_API_PORT ?? '0',
    RATE_CHAT_CONCURRENT: '0',
    RATE_CHAT_PER_MINUTE: '0',
    RATE_JOBS_PER_MINUTE: '0',
    STREAM_STAMPS: 'true', // the worker's per-hop timing stamps in each stream entry
    ...(process.env.BENCH_STACK_ENV ? (JSON.parse(process.env.BENCH_STACK_ENV) as Record<string, string>) : {}),
  },
});
const redis = new Redis(stack.env.REDIS_URL!);
const product: Path = {
  pids: Object.fromEntries([...stack.apis, ...stack.workers].map((p) => [p.name, p.child.pid])),
  database: new URL(stack.databaseUrl).pathname.slice(1),
};
// Started inside the try, so that one failing to start still stops the stack (finally).
let barePipeline: Awaited<ReturnType<typeof startBare>> | undefined;
try {
  // The issue's bare pipeline (bench/bare), on the same Redis, Postgres database and emulator.
  const bare = (barePipeline = withBare ? await startBare(stack.databaseUrl, stack.env.REDIS_URL!) : undefined);
  const clients = await Promise.all(Array.from({ length: chats }, async (_, i) => ChatClient.connect(stack.apis[0]!.url!, await stack.token(`bench${i}`))));
  const bareClients = bare ? await Promise.all(Array.from({ length: chats }, () => ChatClient.connect(bare.api.url!, undefined))) : [];
  console.log(`${chats} streams arriving over ${spreadMs / 1000} s, ${tokens} tokens each at ${tps} tokens/s, emulator TTFB ${ttfb} ms, ${workers} worker(s)`);
  // Each queue round is compared with the direct round just before it; the bare pipeline's round
  // follows the product's, against the same direct round.
  const round = async (title: string, d: Run, into: { product: Figures[]; bare: Figures[] }) => {
    into.product.push(report(title, d, await throughQueue(product, clients, redis)));
    if (bare) into.bare.push(report(`${title}, bare pipeline`, d, await throughQueue(bare.path, bareClients, redis)));
  };
  const colds = { product: [] as Figures[], bare: [] as Figures[] };
  await round('COLD: first burst after boot', await direct(emulatorUrl), colds);
  const cold = colds.product[0]!;
  const warms = { product: [] as Figures[], bare: [] as Figures[] };
  for (let r = 0; r < warmRounds; r++) await round(`WARM round ${r + 1}`, await direct(emulatorUrl), warms);
  const warm = warms.product;
  // Several warm rounds: each figure's median over them (one round's p99 is its 2nd-worst value).
  const w = warmRounds > 1 ? medianFigures(warm) : warm[0]!;
  const bw = bare ? (warmRounds > 1 ? medianFigures(warms.bare) : warms.bare[0]!) : undefined;
  console.log(`\ntargets (warm: ${warmRounds > 1 ? `median of ${warmRounds} rounds` : 'one round'})`);
  console.log(`  warm added TTFT p50 ${w.ttftP50.toFixed(1)} ms <= 10 ms: ${verdict(w.ttftP50 <= 10)}`);
  console.log(`  warm added TTFT p99 ${w.ttftP99.toFixed(1)} ms <= 40 ms: ${verdict(w.ttftP99 <= 40)}`);
  console.log(`  warm added per-token p99 ${w.tokenP99.toFixed(1)} ms <= 10 ms: ${verdict(w.tokenP99 <= 10)}`);
  console.log(`  cold added TTFT p50 ${cold.ttftP50.toFixed(1)} ms <= 2 x warm (${(2 * w.ttftP50).toFixed(1)} ms): ${verdict(cold.ttftP50 <= 2 * Math.max(w.ttftP50, 0))}`);
  console.log(
    baselineCpuMs === undefined
      ? `  stack CPU per chat ${w.stackCpuMsPerChat.toFixed(1)} ms (set BASELINE_CPU_MS to compare: target 25 % lower)`
      : `  stack CPU per chat ${w.stackCpuMsPerChat.toFixed(1)} ms <= 75 % of ${baselineCpuMs} ms: ${verdict(w.stackCpuMsPerChat <= 0.75 * baselineCpuMs)}`,
  );
  console.log(`  nothing lost: ${verdict(cold.lost + warm.reduce((n, f) => n + f.lost, 0) === 0)}`);
  if (bw) {
    const bc = colds.bare[0]!;
    console.log('\nthe product against the bare pipeline, same run (warm: median), product / bare');
    console.log(`  warm added TTFT p50 ${w.ttftP50.toFixed(1)} / ${bw.ttftP50.toFixed(1)} ms, p99 ${w.ttftP99.toFixed(1)} / ${bw.ttftP99.toFixed(1)} ms`);
    console.log(`  warm added per-token p99 ${w.tokenP99.toFixed(1)} / ${bw.tokenP99.toFixed(1)} ms`);
    console.log(`  cold added TTFT p50 ${cold.ttftP50.toFixed(1)} / ${bc.ttftP50.toFixed(1)} ms`);
    console.log(`  stack CPU per chat ${w.stackCpuMsPerChat.toFixed(1)} / ${bw.stackCpuMsPerChat.toFixed(1)} ms (product ${((w.stackCpuMsPerChat / bw.stackCpuMsPerChat - 1) * 100).toFixed(0)} % more)`);
    console.log(`  bare pipeline lost nothing: ${verdict(bc.lost + warms.bare.reduce((n, f) => n + f.lost, 0) === 0)}`);
  }
  if (process.env.BENCH_OUT) {
    const bareFigures = bw ? { bare: { cold: colds.bare[0], warm: bw } } : {};
    appendFileSync(process.env.BENCH_OUT, JSON.stringify({ at: new Date().toISOString(), cold, warm: w, ...bareFigures }) + '\n');
  }
  for (const c of [...clients, ...bareClients]) c.close();
} finally {
  if (barePipeline) await barePipeline.stop(redis);
  redis.disconnect();
  await stack.stop();
  await stopProcess(emulatorProc);
  // Redis as the run found it: a run leaves some 2,600 keys (streams live an hour, finished jobs
  // longer, unanswered titles for good); a series of runs piled up 100,000 keys and 390 MB, and an
  // A/B whose one side left more behind measured 3 ms a chat where a clean one measured 1.2.
  await loseRedisData(stack, ranJobs);
}
