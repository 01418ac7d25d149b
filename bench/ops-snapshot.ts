/**
 * Issue 16 benchmark: what the Operations picture costs. One API process (and one worker, so there
 * are heartbeats and counters) on real Redis; the picture is built from Redis only: per model a
 * governor snapshot, 60 per-minute hashes and the TTFT zset; BullMQ counts and the oldest jobs of
 * two queues; heartbeats. Prints the latency of `GET /v1/admin/ops` (one build per request) with
 * autocannon — the /ops socket builds it once per OPS_PUSH_INTERVAL_MS per node, however many
 * admins watch.
 *
 *   npm run bench:ops        (CONNECTIONS=4 DURATION=10 by default)
 */
import autocannon from 'autocannon';
import { startStack } from '../tests/integration/support/stack.js';

const connections = Number(process.env.CONNECTIONS ?? 4);
const duration = Number(process.env.DURATION ?? 10);

const stack = await startStack({ apis: 1, workers: 1, env: { LOG_LEVEL: 'warn', AUTH_LOCAL_ADMINS: 'bench-admin' } });
try {
  const url = stack.apis[0]!.url!;
  const token = await stack.token('bench-admin');
  const first = (await (await fetch(`${url}/v1/admin/ops`, { headers: { authorization: `Bearer ${token}` } })).json()) as { models: unknown[] };
  const result = await autocannon({ url: `${url}/v1/admin/ops`, connections, duration, headers: { authorization: `Bearer ${token}` } });
  console.log(
    `ops snapshot (${first.models.length} models, 2 queues): ${Math.round(result.requests.average)}/s over ${connections} connections; ` +
      `latency p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms; non-2xx ${result.non2xx}`,
  );
} finally {
  await stack.stop();
}
