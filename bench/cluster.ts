/**
 * Issue 20 benchmark: the same chat load on one Redis, on a Redis Cluster of 1 shard and on one of
 * 3 shards. Per shard: commands per second (INFO stats total_commands_processed, and every command
 * counted by INFO commandstats, which includes those run inside Lua scripts) and CPU
 * (used_cpu_sys + used_cpu_user deltas); for the whole path: time to first token and delta lag.
 *
 *   npm run bench:cluster          (CHATS=400 MODELS=4 TOKENS=100 TPS=50 TTFB=100 ROUNDS=2 WORKERS=2 RUNS=single,1,3)
 *
 * Each Redis here is a fresh `redis-server` started by the benchmark (clusters without replicas: on
 * a small machine replication would only compete for the same cores). The stack (one API node,
 * WORKERS workers) and the emulator are the same for every run.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { emulatorAnswer } from '@switchboard/bedrock-emulator';
import { startRedisCluster, startRedisServer } from '@switchboard/testing';
import { ChatClient } from '../tests/integration/support/chat-client.js';
import { spawnProcess, startStack, stopProcess } from '../tests/integration/support/stack.js';

const chats = Number(process.env.CHATS ?? 400);
const modelCount = Number(process.env.MODELS ?? 4);
const tokens = Number(process.env.TOKENS ?? 100);
const tps = Number(process.env.TPS ?? 50);
const ttfb = Number(process.env.TTFB ?? 100);
const rounds = Number(process.env.ROUNDS ?? 2);
const workers = Number(process.env.WORKERS ?? 2);
const answerMs = ttfb + (tokens * 1000) / tps;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const root = join(import.meta.dirname, '..');
/** Which Redis setups to run: `single` and cluster shard counts. */
const setups = (process.env.RUNS ?? 'single,1,3').split(',').map((s) => s.trim());

const models = Array.from({ length: modelCount }, (_, i) => `bench.model-${i + 1}`);
const catalogFile = join(mkdtempSync(join(tmpdir(), 'sb-bench-cluster-')), 'models.json');
writeFileSync(
  catalogFile,
  JSON.stringify(
    models.map((id, i) => ({
      id,
      name: id,
      maxOutputTokens: 4096,
      contextWindow: 200_000,
      quota: { requestsPerMinute: 1_000_000, tokensPerMinute: 1_000_000_000 },
      price: { inputPer1k: 0, outputPer1k: 0 },
      ...(i === 0 ? { default: true } : {}),
    })),
  ),
);

type NodeStats = { commands: number; calls: number; cpu: number };
function nodeStats(port: number): NodeStats {
  const info = execFileSync('redis-cli', ['-p', String(port), 'INFO', 'everything'], { encoding: 'utf8' });
  const num = (name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1] ?? 0);
  const calls = [...info.matchAll(/^cmdstat_[^:]+:calls=(\d+)/gm)].reduce((sum, m) => sum + Number(m[1]), 0);
  return { commands: num('total_commands_processed'), calls, cpu: num('used_cpu_sys') + num('used_cpu_user') };
}

const prompt = (i: number, round: number) => `Cluster bench ${i}.${round} [[emulator:tokens=${tokens}]]`;

type Result = {
  name: string;
  /** Sends answered with an error (e.g. `unavailable` when the machine could not keep up). */
  refused: number;
  seconds: number;
  shards: { port: number; commandsPerSec: number; callsPerSec: number; cpuPercent: number }[];
  ttft: number[];
  lag: number[];
};

async function run(name: string, redis: { url: string; cluster: boolean; ports: number[] }, emulatorUrl: string): Promise<Result> {
  const stack = await startStack({
    apis: 1,
    workers,
    emulatorUrl,
    env: {
      REDIS_URL: redis.url,
      REDIS_CLUSTER: String(redis.cluster),
      MODELS_FILE: catalogFile,
      WORKER_CONCURRENCY: String(Math.max(64, Math.ceil(chats / workers))),
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
      RATE_CHAT_CONCURRENT: '0',
      RATE_CHAT_PER_MINUTE: '0',
      RATE_SOCKETS_PER_USER: '0',
      // Hundreds of sends at once on a small machine: give Redis time rather than answer `unavailable`.
      REDIS_ENQUEUE_TIMEOUT_MS: '15000',
    },
  });
  try {
    const clients = await Promise.all(Array.from({ length: chats }, async (_, i) => ChatClient.connect(stack.apis[0]!.url!, await stack.token(`bench${i}`))));
    const ttft: number[] = [];
    const lag: number[] = [];
    const refused: string[] = [];
    const chat = async (client: ChatClient, i: number, round: number) => {
      const modelId = models[i % models.length]!;
      const expected = emulatorAnswer({ modelId, messages: [{ role: 'user', content: [{ text: prompt(i, round) }] }], maxTokens: 4096 }).tokens;
      const ends: number[] = [];
      let sum = 0;
      for (const t of expected) ends.push((sum += t.length));
      const arrivals: number[] = [];
      let chars = 0;
      let sent = 0;
      const onDelta = (e: { text: string }) => {
        const now = performance.now();
        if (chars === 0) ttft.push(now - sent);
        chars += e.text.length;
        while (arrivals.length < ends.length && ends[arrivals.length]! <= chars) arrivals.push(now);
      };
      client.socket.on('chat:delta', onDelta);
      sent = performance.now();
      const ack = await client.send({ content: [{ type: 'text', text: prompt(i, round) }], modelId }).catch((err: Error) => ({ ok: false as const, error: { message: err.message } }));
      if (!ack.ok) {
        client.socket.off('chat:delta', onDelta);
        refused.push(ack.error.message);
        return;
      }
      await client.waitForEnd(ack.jobId, 120_000);
      client.socket.off('chat:delta', onDelta);
      lag.push(...arrivals.map((t, k) => t - (arrivals[0]! + (k * 1000) / tps)));
    };
    // Warm-up round (connections, scripts, JIT), not measured.
    await Promise.all(clients.slice(0, 20).map((c, i) => chat(c, i, -1)));
    ttft.length = 0;
    lag.length = 0;
    refused.length = 0;
    const before = redis.ports.map(nodeStats);
    const started = performance.now();
    await Promise.all(
      clients.map(async (client, i) => {
        await sleep(Math.random() * answerMs);
        for (let round = 0; round < rounds; round++) await chat(client, i, round);
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    const after = redis.ports.map(nodeStats);
    for (const c of clients) c.close();
    return {
      name,
      seconds,
      refused: refused.length,
      ttft,
      lag,
      shards: redis.ports.map((port, i) => ({
        port,
        commandsPerSec: (after[i]!.commands - before[i]!.commands) / seconds,
        callsPerSec: (after[i]!.calls - before[i]!.calls) / seconds,
        cpuPercent: ((after[i]!.cpu - before[i]!.cpu) / seconds) * 100,
      })),
    };
  } finally {
    await stack.stop();
  }
}

const pct = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
};

const emulatorProc = await spawnProcess('emulator', join(root, 'libs/bedrock-emulator/dist/cli.js'), {}, /listening on (http:\S+)/, [
  '--port', '0', '--tps', String(tps), '--ttfb', String(ttfb),
]);
const results: Result[] = [];
try {
  if (setups.includes('single')) {
    const single = await startRedisServer();
    try {
      results.push(await run('single Redis', { url: single.url, cluster: false, ports: [single.port] }, emulatorProc.url!));
    } finally {
      await single.stop();
    }
  }
  for (const shards of setups.filter((s) => s !== 'single').map(Number)) {
    const cluster = await startRedisCluster({ primaries: shards, replicasPerPrimary: 0 });
    try {
      const ports = (await cluster.primaries()).map((p) => p.port);
      results.push(await run(`cluster, ${shards} shard${shards > 1 ? 's' : ''}`, { url: cluster.url, cluster: true, ports }, emulatorProc.url!));
    } finally {
      await cluster.stop();
    }
  }
} finally {
  await stopProcess(emulatorProc);
}

console.log(`\n${chats} chat clients x ${rounds} chats over ${modelCount} models, ${tokens} tokens at ${tps} tokens/s (TTFB ${ttfb} ms), ${workers} workers, 1 API node`);
for (const r of results) {
  const total = r.shards.reduce((s, x) => s + x.callsPerSec, 0);
  const totalCpu = r.shards.reduce((s, x) => s + x.cpuPercent, 0);
  console.log(`\n${r.name} (${r.seconds.toFixed(1)} s${r.refused ? `, ${r.refused} sends refused` : ''})`);
  console.log('  shard   commands/s   all calls/s (share)   CPU % of a core (share)');
  for (const s of r.shards) {
    console.log(
      `  :${s.port}  ${s.commandsPerSec.toFixed(0).padStart(10)}   ${s.callsPerSec.toFixed(0).padStart(10)} (${((s.callsPerSec / total) * 100).toFixed(0).padStart(3)} %)   ${s.cpuPercent.toFixed(1).padStart(10)} (${((s.cpuPercent / totalCpu) * 100).toFixed(0).padStart(3)} %)`,
    );
  }
  console.log(`  TTFT p50 ${pct(r.ttft, 50).toFixed(1)} ms, p99 ${pct(r.ttft, 99).toFixed(1)} ms; delta lag p50 ${pct(r.lag, 50).toFixed(1)} ms, p99 ${pct(r.lag, 99).toFixed(1)} ms`);
}
const base = results[0]!;
for (const r of results.slice(1)) {
  console.log(`added vs single Redis, ${r.name}: TTFT p50 ${(pct(r.ttft, 50) - pct(base.ttft, 50)).toFixed(1)} ms, delta lag p99 ${(pct(r.lag, 99) - pct(base.lag, 99)).toFixed(1)} ms`);
}
