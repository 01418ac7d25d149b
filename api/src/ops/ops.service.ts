import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { Job, Queue } from 'bullmq';
import type { RedisClient as Redis } from '@switchboard/server-core';
import type { OpsModel, OpsQueue, OpsSnapshot } from '@switchboard/contracts';
import {
  type AppConfig,
  chatQueueName,
  clearHeartbeat,
  type QuotaGovernor,
  readApiNodes,
  readMinutes,
  readTtft,
  readWorkers,
  summarizeQueueName,
  writeHeartbeat,
} from '@switchboard/server-core';
import { CatalogService } from '../config/catalog.service.js';
import { APP_CONFIG } from '../config/tokens.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { QUOTA_GOVERNOR, REDIS } from '../redis/redis.module.js';

/** The queues shown by lane on Operations (titles and webhooks are in bull-board and /metrics). */
const laneOf: Record<string, 'chat' | 'batch'> = { [chatQueueName]: 'chat', [summarizeQueueName]: 'batch' };
/** How many of the oldest waiting and delayed jobs per queue are looked at for "oldest waiting". */
const oldestScan = 20;

/**
 * The Operations picture, from Redis only (quota governor, BullMQ counts, heartbeats, the per-minute
 * counters the governor writes) — never the database, so any number of admins watching costs
 * Postgres nothing. Also keeps this API node's own heartbeat (sockets, watched jobs).
 */
@Injectable()
export class OpsService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(OpsService.name);
  readonly nodeId = `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  private readonly since = Date.now();
  private timer?: NodeJS.Timeout;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(QUOTA_GOVERNOR) private readonly governor: QuotaGovernor,
    private readonly catalog: CatalogService,
    private readonly metrics: MetricsService,
  ) {}

  onModuleInit() {
    const beat = () => this.beat().catch((err) => this.logger.debug?.(`heartbeat failed: ${(err as Error).message}`));
    void beat();
    this.timer = setInterval(beat, Math.max(100, Math.floor(this.config.ops.heartbeatMs / 3)));
    this.timer.unref();
  }

  async onApplicationShutdown() {
    clearInterval(this.timer);
    await clearHeartbeat(this.redis, this.config.queuePrefix, 'api', this.nodeId).catch(() => undefined);
  }

  private async beat() {
    const { sockets, watchedJobs } = this.metrics.sockets();
    await writeHeartbeat(
      this.redis,
      this.config.queuePrefix,
      { kind: 'api', info: { id: this.nodeId, host: hostname(), pid: process.pid, sockets, watchedJobs, since: this.since, lastHeartbeat: Date.now() } },
      this.config.ops.heartbeatMs,
    );
  }

  async snapshot(): Promise<OpsSnapshot> {
    const prefix = this.config.queuePrefix;
    const now = Date.now();
    const queues = this.metrics.queues().filter((q) => laneOf[q.name]);
    const [models, queueRows, oldest, workers, apiNodes] = await Promise.all([
      Promise.all(this.catalog.list().map((m) => this.model(m.id, m.name, m.quota, now))),
      Promise.all(queues.map((q) => this.queue(q))),
      this.oldestWaiting(queues, now),
      readWorkers(this.redis, prefix),
      readApiNodes(this.redis, prefix),
    ]);
    return {
      at: now,
      windowMs: this.config.quota.windowMs,
      models,
      queues: queueRows,
      oldestWaiting: oldest,
      workers: workers.sort((a, b) => a.since - b.since),
      apiNodes: apiNodes.sort((a, b) => a.since - b.since),
    };
  }

  private async model(id: string, name: string, quota: OpsModel['quota'], now: number): Promise<OpsModel> {
    const [s, history, ttft] = await Promise.all([
      this.governor.snapshot(id),
      readMinutes(this.redis, this.config.queuePrefix, id, 60, now),
      readTtft(this.redis, this.config.queuePrefix, id, now),
    ]);
    return {
      id,
      name,
      quota: { requestsPerMinute: quota.requestsPerMinute, tokensPerMinute: quota.tokensPerMinute },
      window: { requests: s.requestsInWindow, tokens: s.tokensInWindow },
      waiting: { chat: s.waitingChats, batch: s.waitingBatch },
      blockedForMs: s.blockedForMs,
      ttft,
      history,
    };
  }

  private async queue(q: Queue): Promise<OpsQueue> {
    const c = await q.getJobCounts('waiting', 'prioritized', 'delayed', 'active', 'failed');
    return {
      name: q.name,
      lane: laneOf[q.name]!,
      waiting: (c.waiting ?? 0) + (c.prioritized ?? 0),
      delayed: c.delayed ?? 0,
      active: c.active ?? 0,
      failed: c.failed ?? 0,
    };
  }

  /**
   * The job that has waited longest to start: the oldest of each queue's waiting list and a few of
   * its delayed set (jobs parked for quota or a retry), by when they were queued.
   */
  private async oldestWaiting(queues: Queue[], now: number): Promise<OpsSnapshot['oldestWaiting']> {
    let oldest: { queue: string; job: Job } | undefined;
    for (const q of queues) {
      const [waiting, prioritized, delayed] = await Promise.all([
        q.getJobs(['wait'], 0, 0, true),
        q.getJobs(['prioritized'], 0, 0, true),
        q.getJobs(['delayed'], 0, oldestScan - 1, true),
      ]);
      for (const job of [...waiting, ...prioritized, ...delayed]) {
        if (job && job.timestamp && (!oldest || job.timestamp < oldest.job.timestamp)) oldest = { queue: q.name, job };
      }
    }
    return oldest ? { queue: oldest.queue, jobId: String(oldest.job.id), waitingMs: Math.max(0, now - oldest.job.timestamp) } : null;
  }
}
