import { Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import { Queue } from 'bullmq';
import type { RedisClient as Redis } from '@switchboard/server-core';
import { type AppConfig, producerQueue, summarizeQueueName, webhooksQueueName } from '@switchboard/server-core';
import { APP_CONFIG } from '../config/tokens.js';
import { REDIS } from '../redis/redis.module.js';
import { JobIntake } from './job-intake.js';
import { JobsController } from './jobs.controller.js';
import { JobScopeGuard, SubmitLimitsGuard } from './jobs.guards.js';
import { JobsRepository } from './jobs.repository.js';
import { JobsService } from './jobs.service.js';
import { SUMMARIZE_QUEUE, WEBHOOKS_QUEUE } from './jobs.tokens.js';

/** Batch summarization over REST: `/v1/jobs`. */
@Module({
  controllers: [JobsController],
  providers: [
    JobsService,
    JobsRepository,
    JobIntake,
    JobScopeGuard,
    SubmitLimitsGuard,
    { provide: SUMMARIZE_QUEUE, inject: [APP_CONFIG, REDIS], useFactory: (c: AppConfig, redis: Redis) => producerQueue(summarizeQueueName, redis, c.queuePrefix) },
    { provide: WEBHOOKS_QUEUE, inject: [APP_CONFIG, REDIS], useFactory: (c: AppConfig, redis: Redis) => producerQueue(webhooksQueueName, redis, c.queuePrefix) },
  ],
  exports: [JobScopeGuard, SUMMARIZE_QUEUE, WEBHOOKS_QUEUE],
})
export class JobsModule implements OnApplicationShutdown {
  constructor(
    @Inject(SUMMARIZE_QUEUE) private readonly summarize: Queue,
    @Inject(WEBHOOKS_QUEUE) private readonly webhooks: Queue,
  ) {}

  async onApplicationShutdown() {
    await Promise.all([this.summarize.close(), this.webhooks.close()]);
  }
}
