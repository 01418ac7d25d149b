import { Global, Inject, Logger, Module, type OnApplicationShutdown } from '@nestjs/common';
import { Queue } from 'bullmq';
import type { RedisClient as Redis } from '@switchboard/server-core';
import { type AppConfig, chatQueueName, createRedis, producerQueue, QuotaGovernor } from '@switchboard/server-core';
import { APP_CONFIG } from '../config/tokens.js';

export const REDIS = Symbol('REDIS');
export const REDIS_SUBSCRIBER = Symbol('REDIS_SUBSCRIBER');
export const CHAT_QUEUE = Symbol('CHAT_QUEUE');
export const QUOTA_GOVERNOR = Symbol('QUOTA_GOVERNOR');

const logger = new Logger('Redis');
const logLost = (err: Error, role: string) => logger.warn(`${role} connection lost (${err.message}); reconnecting`);

/** One Redis connection per role in this process: commands (shared with the queue) and a subscriber. */
@Global()
@Module({
  providers: [
    { provide: REDIS, inject: [APP_CONFIG], useFactory: (c: AppConfig) => createRedis(c, 'commands', logLost) },
    { provide: REDIS_SUBSCRIBER, inject: [APP_CONFIG], useFactory: (c: AppConfig) => createRedis(c, 'subscriber', logLost) },
    {
      provide: CHAT_QUEUE,
      inject: [APP_CONFIG, REDIS],
      useFactory: (c: AppConfig, redis: Redis) => producerQueue(chatQueueName, redis, c.queuePrefix),
    },
    {
      provide: QUOTA_GOVERNOR,
      inject: [APP_CONFIG, REDIS],
      useFactory: (c: AppConfig, redis: Redis) => new QuotaGovernor(redis, { prefix: c.queuePrefix, ...c.quota }),
    },
  ],
  exports: [REDIS, REDIS_SUBSCRIBER, CHAT_QUEUE, QUOTA_GOVERNOR],
})
export class RedisModule implements OnApplicationShutdown {
  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(REDIS_SUBSCRIBER) private readonly subscriber: Redis,
    @Inject(CHAT_QUEUE) private readonly chatQueue: Queue,
  ) {}

  async onApplicationShutdown() {
    await this.chatQueue.close();
    this.subscriber.disconnect();
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}
