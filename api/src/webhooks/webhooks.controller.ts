import { randomBytes } from 'node:crypto';
import { Controller, Get, HttpCode, Inject, Post, UseGuards } from '@nestjs/common';
import type { RedisClient as Redis } from '@switchboard/server-core';
import type { WebhookSecret } from '@switchboard/contracts';
import { type AppConfig, previousWebhookSecretKey, type WebhookSecretRow } from '@switchboard/server-core';
import { AuditService } from '../audit/audit.service.js';
import { CurrentPrincipal, type Principal } from '../auth/principal.js';
import { APP_CONFIG } from '../config/tokens.js';
import { REDIS } from '../redis/redis.module.js';
import { JobScope, JobScopeGuard } from '../jobs/jobs.guards.js';
import { WebhooksRepository } from './webhooks.repository.js';

/** The caller's secret that signs its job callbacks (`X-Switchboard-Signature`). */
@Controller('v1/webhooks/secret')
@UseGuards(JobScopeGuard)
export class WebhooksController {
  constructor(
    private readonly repository: WebhooksRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(REDIS) private readonly redis: Redis,
    private readonly audit: AuditService,
  ) {}

  /** The current secret (one is created on first use). */
  @Get()
  @JobScope('jobs:write')
  async get(@CurrentPrincipal() principal: Principal): Promise<WebhookSecret> {
    return view(await this.repository.getOrCreate(principal.sub, newSecret()));
  }

  /**
   * Rotates: callbacks from now on are signed with the returned secret, and for
   * WEBHOOK_SECRET_GRACE_MS also with the previous one, so receivers can switch without losing any.
   */
  @Post()
  @HttpCode(200)
  @JobScope('jobs:write')
  async rotate(@CurrentPrincipal() principal: Principal): Promise<WebhookSecret> {
    const graceMs = this.config.jobs.webhooks.secretGraceMs;
    const previous = await this.repository.find(principal.sub);
    const key = previousWebhookSecretKey(this.config.queuePrefix, principal.sub);
    // Kept in Redis with the grace period as its lifetime: it expires by itself.
    if (previous && graceMs > 0) await this.redis.set(key, previous.secret, 'PX', graceMs);
    else await this.redis.del(key);
    const rotated = view(await this.repository.replace(principal.sub, newSecret()));
    // Never the secrets themselves: when each was made.
    await this.audit.record({
      actor: principal.sub,
      action: 'webhook.rotate',
      target: `webhook-secret:${principal.sub}`,
      before: previous ? { createdAt: previous.createdAt.toISOString() } : undefined,
      after: { createdAt: rotated.createdAt, graceMs },
    });
    return previous && graceMs > 0 ? { ...rotated, previousValidUntil: new Date(Date.now() + graceMs).toISOString() } : rotated;
  }
}

const newSecret = () => `whsec_${randomBytes(32).toString('base64url')}`;
const view = (row: WebhookSecretRow): WebhookSecret => ({ secret: row.secret, createdAt: row.createdAt.toISOString() });
