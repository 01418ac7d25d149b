/**
 * Issue 4 benchmark: summarize submissions per second one API process accepts (202 with the job
 * stored in Postgres and enqueued in BullMQ), with p50/p99 latency, measured with autocannon.
 *
 *   npm run bench:jobs        (CONNECTIONS=50 DURATION=15 by default; WORKERS=0)
 *
 * One API process from api/dist on real Redis and a fresh PostgreSQL database. No worker runs by
 * default, so the number is the API's intake alone (WORKERS=1 adds a worker draining the queue).
 */
import autocannon from 'autocannon';
import { startStack } from '../tests/integration/support/stack.js';

const connections = Number(process.env.CONNECTIONS ?? 50);
const duration = Number(process.env.DURATION ?? 15);
const workers = Number(process.env.WORKERS ?? 0);

const stack = await startStack({ apis: 1, workers, emulator: { tps: null, ttfbMs: 0 },
  // Request logs at info cost the API little but the worker's readiness line is an info log.
  env: { LOG_LEVEL: workers > 0 ? 'info' : 'warn' } });
try {
  const url = stack.apis[0]!.url!;
  const token = await stack.token('bench-client', { scopes: ['switchboard/jobs:write', 'switchboard/jobs:read'] });
  const body = JSON.stringify({
    text: 'Quarterly report. Revenue grew 12% while costs stayed flat; the board approved the new hiring plan. [[emulator:tokens=20]]',
    maxWords: 60,
    metadata: { source: 'bench' },
  });
  const run = (seconds: number) =>
    autocannon({
      url: `${url}/v1/jobs/summarize`,
      method: 'POST',
      connections,
      duration: seconds,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body,
    });
  await run(3); // warm-up: JIT, connection pools, prepared statements
  const result = await run(duration);
  const accepted = result['2xx'];
  const rps = accepted / duration;
  console.log(
    JSON.stringify(
      {
        connections,
        durationSeconds: duration,
        accepted,
        non2xx: result.non2xx,
        errors: result.errors,
        submissionsPerSecond: Math.round(rps),
        latencyMs: { p50: result.latency.p50, p90: result.latency.p90, p99: result.latency.p99, max: result.latency.max },
      },
      null,
      2,
    ),
  );
  console.log(`target ≥ 1500/s and p99 ≤ 50 ms: ${rps >= 1500 && result.latency.p99 <= 50 ? 'met' : 'NOT met'}`);
} finally {
  await stack.stop();
}
