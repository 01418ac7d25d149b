/**
 * Issue 4 benchmark: summarize submissions per second one API process accepts (202 with the job
 * stored in Postgres and enqueued in BullMQ), with p50/p99 latency, measured with autocannon.
 *
 *   npm run bench:jobs        (CONNECTIONS=50 DURATION=15 RATE=1500 by default; WORKERS=0; LIMITS=on)
 *
 * Two runs: the most one process accepts (every connection sends as fast as answers come back, so
 * latency there is mostly waiting in line), then the latency at a fixed offered rate of RATE
 * submissions/s (autocannon's overallRate, corrected for coordinated omission): the p99 a client
 * sees while the API carries the target load.
 *
 * One API process from api/dist on real Redis and a fresh PostgreSQL database. No worker runs by
 * default, so the number is the API's intake alone (WORKERS=1 adds a worker draining the queue).
 */
import autocannon from 'autocannon';
import { startStack } from '../tests/integration/support/stack.js';

const connections = Number(process.env.CONNECTIONS ?? 50);
const duration = Number(process.env.DURATION ?? 15);
const workers = Number(process.env.WORKERS ?? 0);
const rate = Number(process.env.RATE ?? 1500);

const stack = await startStack({ apis: 1, workers, emulator: { tps: null, ttfbMs: 0 },
  // Request logs at info cost the API little but the worker's readiness line is an info log.
  // One client submits thousands a second here: its per-client limits are off (LIMITS=on keeps the
  // checks, with a per-minute allowance no run reaches, to measure what they cost).
  env: {
    LOG_LEVEL: workers > 0 ? 'info' : 'warn',
    AUTH_SCOPE_PREFIX: 'switchboard/',
    RATE_JOBS_PER_MINUTE: process.env.LIMITS === 'on' ? '100000000' : '0',
    RATE_STORED_BYTES_PER_USER: process.env.LIMITS === 'on' ? String(2 ** 52) : '0',
  } });
try {
  const url = stack.apis[0]!.url!;
  const token = await stack.token('bench-client', { scopes: ['switchboard/jobs:write', 'switchboard/jobs:read'] });
  const body = JSON.stringify({
    text: 'Quarterly report. Revenue grew 12% while costs stayed flat; the board approved the new hiring plan. [[emulator:tokens=20]]',
    maxWords: 60,
    metadata: { source: 'bench' },
  });
  const run = (seconds: number, overallRate?: number) =>
    autocannon({
      url: `${url}/v1/jobs/summarize`,
      method: 'POST',
      connections,
      duration: seconds,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body,
      ...(overallRate ? { overallRate } : {}),
    });
  const summary = (result: Awaited<ReturnType<typeof run>>) => ({
    accepted: result['2xx'],
    non2xx: result.non2xx,
    errors: result.errors,
    submissionsPerSecond: Math.round(result['2xx'] / duration),
    latencyMs: { p50: result.latency.p50, p90: result.latency.p90, p99: result.latency.p99, max: result.latency.max },
  });
  await run(3); // warm-up: JIT, connection pools, prepared statements
  const most = summary(await run(duration));
  const atRate = summary(await run(duration, rate));
  console.log(JSON.stringify({ connections, durationSeconds: duration, saturated: most, [`offered${rate}PerSecond`]: atRate }, null, 2));
  const met = most.submissionsPerSecond >= 1500 && atRate.submissionsPerSecond >= rate * 0.98 && atRate.latencyMs.p99 <= 50;
  console.log(`target ≥ 1500/s, and p99 ≤ 50 ms at ${rate}/s: ${met ? 'met' : 'NOT met'}`);
} finally {
  await stack.stop();
}
