import { Inject, Injectable } from '@nestjs/common';
import type { Queue } from 'bullmq';
import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import type { ChatQueues, QuotaGovernor } from '@switchboard/server-core';
import { CatalogService } from '../config/catalog.service.js';
import { CHAT_QUEUE, QUOTA_GOVERNOR } from '../redis/redis.module.js';

type Snapshot = Awaited<ReturnType<QuotaGovernor['snapshot']>>;

/**
 * Process metrics plus queue and quota figures, read from Redis at scrape time so every API node
 * reports the same truth.
 */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();
  private readonly extraQueues: Queue[] = [];
  private quotaSnapshots = new Map<string, Snapshot>();

  constructor(
    @Inject(CHAT_QUEUE) chatQueues: ChatQueues,
    @Inject(QUOTA_GOVERNOR) private readonly governor: QuotaGovernor,
    private readonly catalog: CatalogService,
  ) {
    collectDefaultMetrics({ register: this.registry, prefix: 'switchboard_api_' });
    // On a Redis Cluster each model has its own chat queue: the `chat` figures add them up.
    const queues = () => [...chatQueues.of(this.catalog.list().map((m) => m.id)), ...this.extraQueues];
    this.gauge('switchboard_queue_jobs', 'Jobs in each queue by state', ['queue', 'state'], async (g) => {
      const totals = new Map<string, Record<string, number>>();
      for (const queue of queues()) {
        const counts = await queue.getJobCounts('waiting', 'prioritized', 'delayed', 'active', 'failed', 'completed');
        const total = totals.get(queue.name) ?? {};
        for (const [state, n] of Object.entries(counts)) total[state] = (total[state] ?? 0) + n;
        totals.set(queue.name, total);
      }
      for (const [name, total] of totals) for (const [state, n] of Object.entries(total)) g.set({ queue: name, state }, n);
    });
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
    this.extraQueues.push(queue);
  }

  /** One Redis read per model per scrape feeds all quota gauges. */
  async scrape(): Promise<string> {
    const entries = await Promise.all(this.catalog.list().map(async (m) => [m.id, await this.governor.snapshot(m.id)] as const));
    this.quotaSnapshots = new Map(entries);
    return this.registry.metrics();
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
