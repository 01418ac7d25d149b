import { Global, Inject, Logger, Module, type OnApplicationShutdown } from '@nestjs/common';
import type { RedisClient as Redis } from '@switchboard/server-core';
import { type AppConfig, ChatQueues, createRedis, QuotaGovernor } from '@switchboard/server-core';
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
      // One chat queue per model on a Redis Cluster (each model's lane on its own slot), one in all otherwise.
      useFactory: (c: AppConfig, redis: Redis) => new ChatQueues(redis, c.queuePrefix, c.redisCluster),
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
    @Inject(CHAT_QUEUE) private readonly chatQueues: ChatQueues,
  ) {}

  async onApplicationShutdown() {
    await this.chatQueues.close();
    this.subscriber.disconnect();
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}
