import { timingSafeEqual } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { Usage } from '@switchboard/contracts';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** Latency buckets (seconds) for time to first token and queue waits: 50 ms … 2 min. */
const latencyBuckets = [0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 20, 30, 60, 120];
/** Bedrock call durations: a short title call to a long batch summary. */
const callBuckets = [0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300];

export type CallOutcome = 'ok' | 'throttled' | 'error' | 'cancelled';

/**
 * The worker's Prometheus metrics. One set per process (prom-client metrics belong to one
 * registry), shared by every worker started in the process; served on WORKER_METRICS_PORT.
 * Everything observed here happens once per job or per Bedrock call, never per delta.
 */
export class WorkerMetrics {
  readonly registry = new Registry();
  readonly ttft = new Histogram({
    name: 'switchboard_ttft_seconds',
    help: 'Time to first token of a chat: from the API queueing it to the first text the worker streamed',
    labelNames: ['model'],
    buckets: latencyBuckets,
    registers: [this.registry],
  });
  readonly queueWait = new Histogram({
    name: 'switchboard_queue_wait_seconds',
    help: 'Time from queueing a job (or chunk) to its admission by the quota governor',
    labelNames: ['lane'],
    buckets: latencyBuckets,
    registers: [this.registry],
  });
  readonly requests = new Counter({
    name: 'switchboard_bedrock_requests_total',
    help: 'Bedrock calls by model and outcome (ok, throttled, error, cancelled)',
    labelNames: ['model', 'outcome'],
    registers: [this.registry],
  });
  readonly duration = new Histogram({
    name: 'switchboard_bedrock_request_duration_seconds',
    help: 'Bedrock call duration (a stream: until its last event) by model and outcome',
    labelNames: ['model', 'outcome'],
    buckets: callBuckets,
    registers: [this.registry],
  });
  readonly tokens = new Counter({
    name: 'switchboard_tokens_total',
    help: 'Tokens Bedrock reported by model and kind (input, output, cache_read, cache_write)',
    labelNames: ['model', 'kind'],
    registers: [this.registry],
  });
  readonly cost = new Counter({
    name: 'switchboard_cost_usd_total',
    help: 'Cost of Bedrock calls in USD by model (catalog prices)',
    labelNames: ['model'],
    registers: [this.registry],
  });
  readonly throttles = new Counter({
    name: 'switchboard_throttles_total',
    help: 'ThrottlingException (429) answers from Bedrock by model',
    labelNames: ['model'],
    registers: [this.registry],
  });
  readonly admissions = new Counter({
    name: 'switchboard_governor_admissions_total',
    help: 'Calls the quota governor admitted, by model and lane',
    labelNames: ['model', 'lane'],
    registers: [this.registry],
  });
  readonly deferrals = new Counter({
    name: 'switchboard_governor_deferrals_total',
    help: 'Admission attempts the quota governor told to wait, by model and lane',
    labelNames: ['model', 'lane'],
    registers: [this.registry],
  });
  readonly streams = new Gauge({
    name: 'switchboard_worker_streams',
    help: 'Chat answers this worker process is streaming now',
    registers: [this.registry],
  });
  readonly slotsInUse = new Gauge({
    name: 'switchboard_worker_slots_in_use',
    help: 'Jobs this worker process is running now',
    registers: [this.registry],
  });

  /** Chat answers streaming now (the gauge's value, kept as a number for heartbeats). */
  liveStreams = 0;

  streamStarted() {
    this.streams.set(++this.liveStreams);
  }

  streamEnded() {
    this.streams.set(--this.liveStreams);
  }

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'switchboard_worker_' });
  }

  /** A Bedrock call starts: `done` records its outcome, duration, tokens and cost once. */
  startCall(model: string) {
    const started = process.hrtime.bigint();
    let ended = false;
    return {
      done: (outcome: CallOutcome, usage?: Usage | null, costUsd?: number | null) => {
        if (ended) return;
        ended = true;
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        this.requests.inc({ model, outcome });
        this.duration.observe({ model, outcome }, seconds);
        if (outcome === 'throttled') this.throttles.inc({ model });
        if (usage) this.countUsage(model, usage);
        if (costUsd) this.cost.inc({ model }, costUsd);
      },
    };
  }

  countUsage(model: string, usage: Usage) {
    this.tokens.inc({ model, kind: 'input' }, usage.inputTokens);
    this.tokens.inc({ model, kind: 'output' }, usage.outputTokens);
    if (usage.cacheReadTokens) this.tokens.inc({ model, kind: 'cache_read' }, usage.cacheReadTokens);
    if (usage.cacheWriteTokens) this.tokens.inc({ model, kind: 'cache_write' }, usage.cacheWriteTokens);
  }
}

let shared: WorkerMetrics | undefined;
/** This process's worker metrics (made on first use). */
export function workerMetrics(): WorkerMetrics {
  return (shared ??= new WorkerMetrics());
}

/**
 * Serves `GET /metrics` in the Prometheus text format on its own port; with METRICS_TOKEN set,
 * only to `Authorization: Bearer <METRICS_TOKEN>` (as the API's /metrics).
 */
export async function serveMetrics(opts: { port: number; host: string; token?: string; metrics?: WorkerMetrics }): Promise<{ url: string; close(): Promise<void> }> {
  const metrics = opts.metrics ?? workerMetrics();
  const server: Server = createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    if (opts.token !== undefined && !sameSecret(/^Bearer (.+)$/i.exec(req.headers.authorization ?? '')?.[1] ?? '', opts.token)) {
      res.writeHead(401, { 'content-type': 'text/plain', 'www-authenticate': 'Bearer' }).end('unauthorized\n');
      return;
    }
    metrics.registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text),
      () => res.writeHead(500).end(),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : opts.port;
  return {
    url: `http://${opts.host.includes(':') ? `[${opts.host}]` : opts.host}:${port}/metrics`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}
