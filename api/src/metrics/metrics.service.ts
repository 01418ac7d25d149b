import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import type { Queue } from 'bullmq';
import { collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { type AppConfig, type ChatQueues, producerQueue, type QuotaGovernor, type RedisClient as Redis, summarizeQueueName, titlesQueueName, webhooksQueueName } from '@switchboard/server-core';
import { CatalogService } from '../config/catalog.service.js';
import { APP_CONFIG } from '../config/tokens.js';
import { CHAT_QUEUE, QUOTA_GOVERNOR, REDIS } from '../redis/redis.module.js';

/** Job states counted in `switchboard_jobs` (and the older `switchboard_queue_jobs`). */
export const countedStates = ['waiting', 'prioritized', 'delayed', 'active', 'failed', 'completed'] as const;

type Snapshot = Awaited<ReturnType<QuotaGovernor['snapshot']>>;

/**
 * Process metrics plus queue and quota figures, read from Redis at scrape time so every API node
 * reports the same truth.
 */
@Injectable()
export class MetricsService implements OnApplicationShutdown {
  readonly registry = new Registry();
  private readonly extraQueues: Queue[] = [];
  /** Queues this service opened itself (closed with it). */
  private readonly ownQueues: Queue[];
  private quotaSnapshots = new Map<string, Snapshot>();
  private jobCounts = new Map<string, Record<string, number>>();
  private socketSource: () => { sockets: number; watchedJobs: number } = () => ({ sockets: 0, watchedJobs: 0 });
  /** Worker append → socket emit of a sampled delta (the worker stamps every 8th batch). */
  readonly deltaLatency = new Histogram({
    name: 'switchboard_delta_latency_seconds',
    help: 'Time from a worker appending a (sampled) delta to this API node emitting it to sockets',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });

  constructor(
    @Inject(CHAT_QUEUE) private readonly chatQueues: ChatQueues,
    @Inject(QUOTA_GOVERNOR) private readonly governor: QuotaGovernor,
    private readonly catalog: CatalogService,
    @Inject(REDIS) redis: Redis,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    collectDefaultMetrics({ register: this.registry, prefix: 'switchboard_api_' });
    // The batch queues are counted too (read-only handles on the shared connection).
    this.ownQueues = [summarizeQueueName, webhooksQueueName, titlesQueueName].map((name) => producerQueue(name, redis, config.queuePrefix));
    this.extraQueues.push(...this.ownQueues);
    const byState = (g: Gauge) => {
      for (const [queue, counts] of this.jobCounts) for (const [state, n] of Object.entries(counts)) g.set({ queue, state }, n);
    };
    this.gauge('switchboard_jobs', 'Jobs in each queue by BullMQ state', ['queue', 'state'], byState);
    this.gauge('switchboard_queue_jobs', 'Jobs in each queue by state (older name of switchboard_jobs)', ['queue', 'state'], byState);
    this.gauge('switchboard_sockets', 'Socket.IO /chat connections on this API node', [], (g) => g.set(this.socketSource().sockets));
    this.gauge('switchboard_watched_jobs', 'Jobs this API node relays to its sockets now', [], (g) => g.set(this.socketSource().watchedJobs));
    const quota: [string, string, (s: Snapshot) => number][] = [
      ['switchboard_quota_requests_in_window', 'Requests reserved in the current quota window', (s) => s.requestsInWindow],
      ['switchboard_quota_tokens_in_window', 'Tokens reserved or used in the current quota window', (s) => s.tokensInWindow],
      ['switchboard_quota_waiting_chats', 'Chats waiting for this model\'s quota', (s) => s.waitingChats],
      ['switchboard_quota_waiting_batch', 'Batch jobs waiting for this model\'s quota', (s) => s.waitingBatch],
      ['switchboard_quota_blocked_seconds', 'Seconds left in a back-off after Bedrock throttled', (s) => s.blockedForMs / 1000],
      ['switchboard_quota_admitted', 'Calls admitted since the counters began', (s) => s.admitted],
      ['switchboard_quota_deferred', 'Admission attempts told to wait', (s) => s.deferred],
      ['switchboard_quota_throttles', '429 ThrottlingException answers from Bedrock', (s) => s.throttled],
    ];
    for (const [name, help, pick] of quota) {
      this.gauge(name, help, ['model'], (g) => {
        for (const [model, s] of this.quotaSnapshots) g.set({ model }, pick(s));
      });
    }
    this.gauge('switchboard_quota_limit', 'Quota per window from the catalog', ['model', 'kind'], (g) => {
      for (const m of this.catalog.list()) {
        g.set({ model: m.id, kind: 'requests' }, m.quota.requestsPerMinute);
        g.set({ model: m.id, kind: 'tokens' }, m.quota.tokensPerMinute);
      }
    });
  }

  /** Other features register their queues here to be counted. */
  addQueue(queue: Queue) {
    if (!this.queues().some((q) => q.name === queue.name)) this.extraQueues.push(queue);
  }

  /** Every queue counted: chat (on a Redis Cluster one per model), summarize, webhooks, titles (and any added). */
  queues(): Queue[] {
    return [...this.chatQueues.of(this.catalog.list().map((m) => m.id)), ...this.extraQueues];
  }

  /** The chat relay tells how many sockets and watched jobs this node has. */
  setSocketSource(source: () => { sockets: number; watchedJobs: number }) {
    this.socketSource = source;
  }

  sockets() {
    return this.socketSource();
  }

  /** One Redis read per model and per queue per scrape feeds every quota and job gauge. */
  async scrape(): Promise<string> {
    const [entries, counts] = await Promise.all([
      Promise.all(this.catalog.list().map(async (m) => [m.id, await this.governor.snapshot(m.id)] as const)),
      Promise.all(this.queues().map(async (q) => [q.name, await q.getJobCounts(...countedStates)] as const)),
    ]);
    this.quotaSnapshots = new Map(entries);
    // Per-model chat queues (Redis Cluster) add up under `chat`.
    this.jobCounts = new Map();
    for (const [name, c] of counts) {
      const total = this.jobCounts.get(name) ?? {};
      for (const [state, n] of Object.entries(c)) total[state] = (total[state] ?? 0) + n;
      this.jobCounts.set(name, total);
    }
    return this.registry.metrics();
  }

  async onApplicationShutdown() {
    await Promise.all(this.ownQueues.map((q) => q.close()));
  }

  private gauge(name: string, help: string, labelNames: string[], collect: (g: Gauge) => void | Promise<void>) {
    new Gauge({
      name,
      help,
      labelNames,
      registers: [this.registry],
      collect() {
        return collect(this);
      },
    });
  }
}
