/**
 * Issue 21 benchmark: what idle, authenticated portal sockets cost one API process.
 *
 *   npm run bench:sockets            (SOCKETS=10000 STREAMS=20 by default)
 *
 * One API process and one worker on real Redis and PostgreSQL, the Bedrock emulator in this
 * process. N sockets (one user each, the portal's shape) connect and sit idle; the API's RSS is read
 * before and after (in a fresh API process: writing a heap snapshot grows the RSS for good), and
 * heap snapshots of the API before and with the sockets (taken through
 * --heapsnapshot-signal=SIGWINCH: Nest treats SIGUSR2 as a shutdown signal) are summed by
 * constructor; the "with sockets" snapshot is taken after both RSS readings. Then a chat streams with all N open, and the API is killed and restarted on the
 * same port while STREAMS answers are in flight: every socket must come back, and the streams
 * resume by seq to the end (reconnect storm).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { io, type Socket } from 'socket.io-client';
import type { ChatDeltaEvent, ChatDoneEvent, ChatSendAck } from '@switchboard/contracts';
import { freePort } from '../e2e/support/stack.js';
import { type Proc, spawnProduct, startStack, stopProcess } from '../tests/integration/support/stack.js';

const sockets = Number(process.env.SOCKETS ?? 10_000);
const streams = Number(process.env.STREAMS ?? 20);
const connectConcurrency = Number(process.env.CONNECT_CONCURRENCY ?? 200);
const metricsToken = 'bench-metrics-token';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const root = join(import.meta.dirname, '..');

const rssMb = (pid: number) => {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'))!;
  return Number(line.split(/\s+/)[1]) / 1024;
};

/** Runs `work` over `items` with at most `limit` at once. */
async function pool<T, R>(items: T[], limit: number, work: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        results[i] = await work(items[i]!, i);
      }
    }),
  );
  return results;
}

/**
 * Sums a V8 heap snapshot's self sizes by constructor name (object and closure nodes; other node
 * types by type). Read from a Buffer and scanned by hand: with 10,000 sockets the snapshot is
 * larger than the longest string V8 can make, so JSON.parse of the whole file is not possible.
 */
function heapByConstructor(file: string, top = 10): { name: string; count: number; mb: number }[] {
  const buf = readFileSync(file);
  const nodesAt = buf.indexOf('"nodes":[');
  const head = JSON.parse(`${buf.toString('utf8', 0, nodesAt).replace(/,\s*$/, '')}}`) as {
    snapshot: { meta: { node_fields: string[]; node_types: [string[]] } };
  };
  const fields = head.snapshot.meta.node_fields;
  const stride = fields.length;
  const typeAt = fields.indexOf('type');
  const nameAt = fields.indexOf('name');
  const sizeAt = fields.indexOf('self_size');
  const types = head.snapshot.meta.node_types[0];
  // key: name index * 32 + type index
  const totals = new Map<number, { count: number; bytes: number }>();
  const row: number[] = new Array(stride).fill(0);
  let field = 0;
  let value = 0;
  let i = nodesAt + '"nodes":['.length;
  for (; ; i++) {
    const c = buf[i]!;
    if (c >= 48 && c <= 57) value = value * 10 + (c - 48);
    else if (c === 44 || c === 93) {
      row[field++] = value;
      value = 0;
      if (field === stride) {
        field = 0;
        const type = types[row[typeAt]!]!;
        const key = (type === 'object' || type === 'closure' ? row[nameAt]! : -1) * 32 + row[typeAt]!;
        const entry = totals.get(key);
        if (entry) {
          entry.count++;
          entry.bytes += row[sizeAt]!;
        } else totals.set(key, { count: 1, bytes: row[sizeAt]! });
      }
      if (c === 93) break;
    }
  }
  const sorted = [...totals.entries()].sort((a, b) => b[1].bytes - a[1].bytes).slice(0, top);
  const wanted = new Set(sorted.map(([key]) => Math.floor(key / 32)).filter((n) => n >= 0));
  const names = new Map<number, string>();
  const stringsAt = buf.indexOf('"strings":[', i);
  let index = 0;
  for (let j = stringsAt + '"strings":['.length; j < buf.length && names.size < wanted.size; ) {
    const c = buf[j]!;
    if (c !== 34) {
      j++;
      continue;
    }
    let k = j + 1;
    while (buf[k] !== 34) k += buf[k] === 92 ? 2 : 1;
    if (wanted.has(index)) names.set(index, JSON.parse(buf.toString('utf8', j, k + 1)) as string);
    index++;
    j = k + 1;
  }
  return sorted.map(([key, t]) => {
    const nameIndex = Math.floor(key / 32);
    const type = types[key - nameIndex * 32]!;
    const name = nameIndex < 0 ? `(${type})` : type === 'closure' ? `${names.get(nameIndex)}()` : names.get(nameIndex)!;
    return { name, count: t.count, mb: t.bytes / 1024 / 1024 };
  });
}

async function takeHeapSnapshot(api: Proc, dir: string, apiUrl: string): Promise<string> {
  const before = new Set(readdirSync(dir));
  api.child.kill('SIGWINCH');
  for (let i = 0; i < 600; i++) {
    await sleep(500);
    const file = readdirSync(dir).find((f) => f.endsWith('.heapsnapshot') && !before.has(f));
    if (!file) continue;
    // The snapshot is written on the API's main thread: once it answers again, the file is whole.
    for (let attempt = 0; ; attempt++) {
      const ok = await fetch(`${apiUrl}/healthz`).then((r) => r.ok, () => false);
      if (ok || attempt > 20) break;
      await sleep(500);
    }
    return join(dir, file);
  }
  throw new Error('no heap snapshot');
}

async function eventLoopP99Ms(apiUrl: string): Promise<number | undefined> {
  const res = await fetch(`${apiUrl}/metrics`, { headers: { authorization: `Bearer ${metricsToken}` } });
  const text = await res.text();
  const match = /^\S*eventloop_lag_p99_seconds(?:\{[^}]*\})? ([0-9.e+-]+)$/m.exec(text);
  return match ? Number(match[1]) * 1000 : undefined;
}

function connect(url: string, token: string, reconnection: boolean): Promise<Socket> {
  const socket = io(`${url}/chat`, {
    auth: { token },
    transports: ['websocket'],
    reconnection,
    reconnectionDelay: 1000,
    reconnectionDelayMax: 5000,
    forceNew: true,
  });
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', reject);
  });
}

async function main() {
  const snapshotDir = mkdtempSync(join(tmpdir(), 'sb-bench-sockets-'));
  const port = await freePort();
  const env = {
    PORT: String(port),
    METRICS_TOKEN: metricsToken,
    LOG_LEVEL: 'warn',
    NODE_OPTIONS: `--heapsnapshot-signal=SIGWINCH --diagnostic-dir=${snapshotDir}`,
  };
  const stack = await startStack({ apis: 1, workers: 1, env, emulator: { tps: 20, ttfbMs: 100 } });
  let api = stack.apis[0]!;
  const url = `http://127.0.0.1:${port}`;
  try {
    console.log(`API pid ${api.child.pid}; ${sockets} sockets, one user each`);
    api.child.once('exit', (code, signal) => console.error(`API exited: ${code ?? signal}`));
    const tokens = await pool(Array.from({ length: sockets }, (_, i) => `idle-${i}`), 50, (name) => stack.token(name));
    // Writing a heap snapshot grows the RSS for good (by ~170 MB here): the "before" snapshot is
    // taken from a first API process, and the RSS is read from a fresh one that never wrote one.
    const heapBefore = heapByConstructor(await takeHeapSnapshot(api, snapshotDir, url));
    for (const f of readdirSync(snapshotDir)) rmSync(join(snapshotDir, f));
    await stopProcess(api, 'SIGKILL');
    api = await spawnProduct('api', 'api-fresh', { ...stack.env, ...env });
    console.log(`fresh API pid ${api.child.pid} for the RSS readings`);
    await sleep(5000);
    const rssBefore = rssMb(api.child.pid!);

    const started = Date.now();
    const clients = await pool(tokens, connectConcurrency, (token) => connect(url, token, true));
    const connectSeconds = (Date.now() - started) / 1000;
    await sleep(5000);
    const rssAfter = rssMb(api.child.pid!);
    const heapAfter = heapByConstructor(await takeHeapSnapshot(api, snapshotDir, url));

    // A chat still streams with every socket open.
    const probe = clients[0]!;
    const t0 = Date.now();
    let firstToken = 0;
    const probeDone = new Promise<ChatDoneEvent>((resolve) => probe.once('chat:done', resolve));
    probe.on('chat:delta', () => (firstToken ||= Date.now() - t0));
    const ack: ChatSendAck = await probe.timeout(30_000).emitWithAck('chat:send', { content: [{ type: 'text', text: 'hello with 10k open' }] });
    if (!ack.ok) throw new Error(`chat:send refused: ${JSON.stringify(ack.error)}`);
    const done = await probeDone;
    probe.removeAllListeners('chat:delta');

    // Reconnect storm: STREAMS answers in flight, the API is killed and comes back on the same port.
    type Tracked = { socket: Socket; jobId?: string; lastSeq: number; text: string; done?: ChatDoneEvent };
    const tracked: Tracked[] = clients.slice(1, 1 + streams).map((socket) => ({ socket, lastSeq: 0, text: '' }));
    for (const t of tracked) {
      t.socket.on('chat:delta', (e: ChatDeltaEvent) => {
        if (e.jobId !== t.jobId || e.seq !== t.lastSeq + 1) return;
        t.lastSeq = e.seq;
        t.text += e.text ?? '';
      });
      t.socket.on('chat:done', (e: ChatDoneEvent) => e.jobId === t.jobId && (t.done = e));
      // The portal's behaviour: after a reconnect, ask for what came after the last seq seen.
      t.socket.io.on('reconnect', () => void t.socket.emit('chat:resume', { jobId: t.jobId, afterSeq: t.lastSeq }, () => undefined));
    }
    await Promise.all(
      tracked.map(async (t, i) => {
        const a: ChatSendAck = await t.socket.timeout(30_000).emitWithAck('chat:send', { content: [{ type: 'text', text: `[[emulator:tokens=300]] long answer ${i}` }] });
        if (!a.ok) throw new Error(`chat:send refused: ${JSON.stringify(a.error)}`);
        t.jobId = a.jobId;
      }),
    );
    await sleep(1500);
    let reconnected = 0;
    for (const c of clients) c.io.once('reconnect', () => reconnected++);
    await stopProcess(api, 'SIGKILL');
    const killedAt = Date.now();
    api = await spawnProduct('api', 'api-restarted', { ...stack.env, ...env });
    const restartMs = Date.now() - killedAt;
    while (reconnected < clients.length && Date.now() - killedAt < 120_000) await sleep(200);
    const allBackSeconds = (Date.now() - killedAt) / 1000;
    const loopP99 = await eventLoopP99Ms(url);
    while (tracked.some((t) => !t.done) && Date.now() - killedAt < 180_000) await sleep(200);
    const complete = tracked.filter((t) => t.done && t.done.text === t.text).length;

    const row = (h: { name: string; count: number; mb: number }) => `  ${h.name.padEnd(36)} ${String(h.count).padStart(9)} ${h.mb.toFixed(1).padStart(8)} MB`;
    console.log('\nHeap by constructor before the sockets (self size, top 10):');
    heapBefore.forEach((h) => console.log(row(h)));
    console.log(`\nHeap by constructor with ${sockets} sockets (self size, top 10):`);
    heapAfter.forEach((h) => console.log(row(h)));
    console.log('\n| figure | value |\n|---|---|');
    console.log(`| API RSS before sockets | ${rssBefore.toFixed(0)} MB |`);
    console.log(`| API RSS with ${sockets} idle sockets | ${rssAfter.toFixed(0)} MB (target < 400 MB: ${rssAfter < 400 ? 'met' : 'NOT met'}) |`);
    console.log(`| per socket | ${(((rssAfter - rssBefore) * 1024) / sockets).toFixed(1)} KB |`);
    console.log(`| connect ${sockets} sockets | ${connectSeconds.toFixed(1)} s |`);
    console.log(`| chat with all open | first token ${firstToken} ms, done (${done.usage.outputTokens} tokens) |`);
    console.log(`| API restart to listening | ${(restartMs / 1000).toFixed(1)} s |`);
    console.log(`| all ${clients.length} sockets back after the kill | ${reconnected}/${clients.length} in ${allBackSeconds.toFixed(1)} s |`);
    console.log(`| API event-loop delay p99 during the storm | ${loopP99 === undefined ? 'n/a' : `${loopP99.toFixed(0)} ms`} |`);
    console.log(`| streams resumed to the end, text = done.text | ${complete}/${tracked.length} |`);
    for (const c of clients) c.close();
  } catch (err) {
    console.error(`API output (tail):\n${api.output.join('').slice(-3000)}`);
    throw err;
  } finally {
    if (!stack.apis.includes(api)) await stopProcess(api);
    await stack.stop();
    rmSync(snapshotDir, { recursive: true, force: true });
  }
}

await main();
process.exit(0);
