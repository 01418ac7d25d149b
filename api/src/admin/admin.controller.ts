import { Controller, HttpCode, Inject, Post, UseGuards } from '@nestjs/common';
import type { RedisClient as Redis } from '@switchboard/server-core';
import { type AppConfig, ConfigError, controlChannel, type ControlMessage, redisPublish } from '@switchboard/server-core';
import { AuditService } from '../audit/audit.service.js';
import { AdminGuard } from '../auth/admin.guard.js';
import { CurrentPrincipal, type Principal } from '../auth/principal.js';
import { AppError } from '../common/app-error.js';
import { CatalogService } from '../config/catalog.service.js';
import { APP_CONFIG } from '../config/tokens.js';
import { REDIS } from '../redis/redis.module.js';

@Controller('v1/admin')
@UseGuards(AdminGuard)
export class AdminController {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(REDIS) private readonly redis: Redis,
    private readonly catalog: CatalogService,
    private readonly audit: AuditService,
  ) {}

  /** Re-reads MODELS_FILE here and, through the control channel, in every API node and worker. */
  @Post('catalog/reload')
  @HttpCode(200)
  async reloadCatalog(@CurrentPrincipal() principal: Principal) {
    const before = this.catalog.list().map((m) => ({ id: m.id, ...(m.allowedGroups ? { allowedGroups: m.allowedGroups } : {}) }));
    try {
      this.catalog.reload();
    } catch (err) {
      if (err instanceof ConfigError) throw new AppError('bad_request', err.message);
      throw err;
    }
    const message: ControlMessage = { type: 'reload-catalog' };
    await redisPublish(this.redis, controlChannel(this.config.queuePrefix), JSON.stringify(message));
    const after = this.catalog.list().map((m) => ({ id: m.id, ...(m.allowedGroups ? { allowedGroups: m.allowedGroups } : {}) }));
    await this.audit.record({ actor: principal.sub, action: 'catalog.reload', target: 'catalog', before, after });
    return { models: this.catalog.publicList().map((m) => m.id) };
  }
}
