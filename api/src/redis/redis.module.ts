import { Global, Inject, Logger, Module, type OnApplicationShutdown } from '@nestjs/common';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { type AppConfig, chatQueueName, createRedis, QuotaGovernor } from '@switchboard/server-core';
import { APP_CONFIG } from '../config/tokens.js';

export const REDIS = Symbol('REDIS');
export const REDIS_SUBSCRIBER = Symbol('REDIS_SUBSCRIBER');
export const CHAT_QUEUE = Symbol('CHAT_QUEUE');
export const QUOTA_GOVERNOR = Symbol('QUOTA_GOVERNOR');

const logger = new Logger('Redis');
const logLost = (err: Error, role: string) => logger.warn(`${role} connection lost (${err.message}); reconnecting`);

/**
 * A producer-side queue on the shared commands connection. Its connection errors are already
 * reported by `logLost`; without a listener BullMQ would print each one to stderr.
 */
export function producerQueue(name: string) {
  return (c: AppConfig, redis: Redis): Queue => new Queue(name, { connection: redis, prefix: c.queuePrefix }).on('error', () => undefined);
}

/** One Redis connection per role in this process: commands (shared with the queue) and a subscriber. */
@Global()
@Module({
  providers: [
    { provide: REDIS, inject: [APP_CONFIG], useFactory: (c: AppConfig) => createRedis(c.redisUrl, 'commands', logLost) },
    { provide: REDIS_SUBSCRIBER, inject: [APP_CONFIG], useFactory: (c: AppConfig) => createRedis(c.redisUrl, 'subscriber', logLost) },
    {
      provide: CHAT_QUEUE,
      inject: [APP_CONFIG, REDIS],
      useFactory: producerQueue(chatQueueName),
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
