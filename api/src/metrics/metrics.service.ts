import { Inject, Injectable } from '@nestjs/common';
import type { Queue } from 'bullmq';
import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import { CHAT_QUEUE } from '../redis/redis.module.js';

/** Process metrics plus queue depth, read from Redis at scrape time so every node reports the same truth. */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();

  constructor(@Inject(CHAT_QUEUE) chatQueue: Queue) {
    collectDefaultMetrics({ register: this.registry, prefix: 'switchboard_api_' });
    new Gauge({
      name: 'switchboard_queue_jobs',
      help: 'Jobs in the queue by state',
      labelNames: ['queue', 'state'],
      registers: [this.registry],
      async collect() {
        const counts = await chatQueue.getJobCounts('waiting', 'prioritized', 'delayed', 'active', 'failed', 'completed');
        for (const [state, n] of Object.entries(counts)) this.set({ queue: chatQueue.name, state }, n);
      },
    });
  }

  scrape(): Promise<string> {
    return this.registry.metrics();
  }
}
