import type { RedisClient as Redis } from '@switchboard/server-core';
import type { ModelEntry } from '@switchboard/contracts';
import { controlChannel, type ControlMessage, loadCatalog, type Logger, onRedisMessage, redisSubscribe } from '@switchboard/server-core';

/**
 * The model catalog of this worker process. Quotas change without a restart: SIGHUP, or an admin
 * reload on any API node (control channel), re-reads MODELS_FILE; a bad file keeps the old catalog.
 */
export class CatalogHolder {
  private models: ModelEntry[];
  private readonly onSighup = () => this.reload('SIGHUP');

  constructor(
    private readonly modelsFile: string | undefined,
    private readonly logger: Logger,
    private readonly modelsJson?: string,
  ) {
    this.models = loadCatalog(modelsFile, modelsJson);
  }

  readonly list = (): readonly ModelEntry[] => this.models;
  private readonly reloadListeners: (() => void)[] = [];

  /** Hears every successful reload (e.g. to start workers for models added). */
  onReload(listener: () => void) {
    this.reloadListeners.push(listener);
  }

  async listen(subscriber: Redis, queuePrefix: string): Promise<void> {
    const channel = controlChannel(queuePrefix);
    onRedisMessage(subscriber, (ch: string, payload: string) => {
      if (ch === channel && (JSON.parse(payload) as ControlMessage).type === 'reload-catalog') this.reload('control channel');
    });
    await redisSubscribe(subscriber, channel);
    process.on('SIGHUP', this.onSighup);
  }

  stop() {
    process.off('SIGHUP', this.onSighup);
  }

  private reload(why: string) {
    try {
      this.models = loadCatalog(this.modelsFile, this.modelsJson);
      this.logger.info({ models: this.models.length, why }, 'model catalog reloaded');
      for (const listener of this.reloadListeners) listener();
    } catch (err) {
      this.logger.error({ err: (err as Error).message, why }, 'catalog reload failed; keeping the previous one');
    }
  }
}
