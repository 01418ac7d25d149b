/**
 * Issue 17 benchmark: bulk intake. One `POST /v1/batches` of ITEMS (10,000 by default) JSONL items
 * → the 202 comes once the batch and every item are stored in PostgreSQL (one transaction) and
 * enqueued in BullMQ. Prints the time to 202 and the items accepted per second, for RUNS batches.
 *
 *   npm run bench:batches        (ITEMS=10000 RUNS=3 by default; WORKERS=0)
 *
 * One API process from api/dist on real Redis and a fresh PostgreSQL database; no worker by default,
 * so the figure is the API's intake alone.
 */
import { startStack } from '../tests/integration/support/stack.js';

const items = Number(process.env.ITEMS ?? 10_000);
const runs = Number(process.env.RUNS ?? 3);
const workers = Number(process.env.WORKERS ?? 0);

const stack = await startStack({
  apis: 1,
  workers,
  emulator: { tps: null, ttfbMs: 0 },
  env: { LOG_LEVEL: workers > 0 ? 'info' : 'warn', BATCH_MAX_ITEMS: String(Math.max(items, 10_000)), RATE_JOBS_PER_MINUTE: '0', RATE_STORED_BYTES_PER_USER: '0' },
});
try {
  const url = stack.apis[0]!.url!;
  const token = await stack.token('bench-batches', { scopes: ['jobs:write', 'jobs:read'] });
  const body = (run: number) =>
    Array.from({ length: items }, (_, i) =>
      JSON.stringify({
        customId: `run${run}-item-${i}`,
        text: `Quarterly report ${i}. Revenue grew 12% while costs stayed flat; the board approved the new hiring plan. [[emulator:tokens=20]]`,
        maxWords: 60,
        metadata: { source: 'bench', n: i },
      }),
    ).join('\n');
  const submit = async (run: number) => {
    const payload = body(run);
    const started = performance.now();
    const res = await fetch(`${url}/v1/batches`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-ndjson' }, body: payload });
    const ms = performance.now() - started;
    if (res.status !== 202) throw new Error(`HTTP ${res.status}: ${(await res.text()).slice(0, 500)}`);
    const batch = (await res.json()) as { total: number };
    if (batch.total !== items) throw new Error(`batch total ${batch.total}`);
    return { ms, bytes: Buffer.byteLength(payload) };
  };
  await submit(0); // warm-up: JIT, connection pools
  const results = [];
  for (let run = 1; run <= runs; run++) results.push(await submit(run));
  const times = results.map((r) => r.ms).sort((a, b) => a - b);
  const median = times[Math.floor(times.length / 2)]!;
  console.log(
    JSON.stringify(
      {
        items,
        bodyBytes: results[0]!.bytes,
        runs,
        timeTo202Ms: { median: Math.round(median), min: Math.round(times[0]!), max: Math.round(times.at(-1)!) },
        itemsPerSecond: Math.round(items / (median / 1000)),
      },
      null,
      2,
    ),
  );
} finally {
  await stack.stop();
}
