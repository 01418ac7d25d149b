import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { RedisClient as Redis } from '@switchboard/server-core';
import { type AppConfig, controlChannel, type ControlMessage, onRedisMessage, redisSubscribe } from '@switchboard/server-core';
import { CatalogService } from '../config/catalog.service.js';
import { APP_CONFIG } from '../config/tokens.js';
import { REDIS_SUBSCRIBER } from '../redis/redis.module.js';

/** Reloads this node's catalog on SIGHUP and when any node's admin endpoint asks all to. */
@Injectable()
export class CatalogReloaderService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(CatalogReloaderService.name);
  private readonly onSighup = () => this.reload('SIGHUP');

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(REDIS_SUBSCRIBER) private readonly subscriber: Redis,
    private readonly catalog: CatalogService,
  ) {}

  async onModuleInit() {
    const channel = controlChannel(this.config.queuePrefix);
    onRedisMessage(this.subscriber, (ch: string, payload: string) => {
      if (ch === channel && (JSON.parse(payload) as ControlMessage).type === 'reload-catalog') this.reload('control channel');
    });
    await redisSubscribe(this.subscriber, channel);
    process.on('SIGHUP', this.onSighup);
  }

  onApplicationShutdown() {
    process.off('SIGHUP', this.onSighup);
  }

  private reload(why: string) {
    try {
      this.catalog.reload();
      this.logger.log({ models: this.catalog.list().length, why }, 'model catalog reloaded');
    } catch (err) {
      this.logger.error({ err: (err as Error).message, why }, 'catalog reload failed; keeping the previous one');
    }
  }
}
