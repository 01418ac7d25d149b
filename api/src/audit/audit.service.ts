import { createHash } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import type { RedisClient as Redis } from '@switchboard/server-core';
import type { AuditAction, AuditPage, AuditQuery } from '@switchboard/contracts';
import type { AppConfig } from '@switchboard/server-core';
import type { Principal } from '../auth/principal.js';
import { AppError } from '../common/app-error.js';
import { APP_CONFIG } from '../config/tokens.js';
import { REDIS } from '../redis/redis.module.js';
import { AuditRepository, type NewAuditEntry } from './audit.repository.js';

/** Appends to the audit log. Recording never fails the action it records (logged instead). */
@Injectable()
export class AuditService {
  private readonly logger = new Logger(AuditService.name);

  constructor(
    private readonly repository: AuditRepository,
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** A call refused because the caller's groups may not use the model (`model_not_allowed`). */
  modelRefused(actor: string, modelId: string | undefined, via: 'chat' | 'jobs' | 'batches'): Promise<void> {
    return this.record({ actor, action: 'call.refused', target: `model:${modelId ?? ''}`, details: { code: 'model_not_allowed', via } });
  }

  async record(entry: NewAuditEntry & { action: AuditAction }): Promise<void> {
    try {
      await this.repository.append(entry);
    } catch (err) {
      this.logger.error({ err, action: entry.action }, 'audit entry not written');
    }
  }

  /**
   * An admin's token seen for the first time (its session) on any node: one `admin.signin` entry per
   * token, deduplicated across nodes in Redis for the token's lifetime.
   */
  async adminSeen(principal: Principal, token: string, expiresAt: number): Promise<void> {
    if (!principal.groups.includes(this.config.auth.adminGroup)) return;
    const digest = createHash('sha256').update(token).digest('base64url').slice(0, 32);
    const ttl = Math.max(1000, Math.min(expiresAt - Date.now(), 24 * 3600_000));
    const first = await this.redis.set(`${this.config.queuePrefix}:audit:signin:${digest}`, '1', 'PX', ttl, 'NX').catch(() => null);
    if (first !== 'OK') return;
    await this.record({
      actor: principal.sub,
      action: 'admin.signin',
      details: { username: principal.username, authMode: this.config.auth.mode, expiresAt: new Date(expiresAt).toISOString() },
    });
  }

  async list(query: AuditQuery): Promise<AuditPage> {
    const beforeId = query.cursor === undefined ? undefined : Number(Buffer.from(query.cursor, 'base64url').toString());
    if (beforeId !== undefined && !(Number.isSafeInteger(beforeId) && beforeId > 0)) {
      throw new AppError('validation_failed', 'Invalid cursor', [{ path: 'cursor', message: 'not a cursor this API returned' }]);
    }
    const { rows, hasMore } = await this.repository.list({ limit: query.limit, beforeId, action: query.action });
    const last = rows.at(-1);
    return {
      items: rows.map((r) => ({
        id: String(r.id),
        at: r.at.toISOString(),
        actor: r.actor,
        action: r.action as AuditAction,
        ...(r.target ? { target: r.target } : {}),
        ...(r.before != null ? { before: r.before } : {}),
        ...(r.after != null ? { after: r.after } : {}),
        ...(r.details != null ? { details: r.details } : {}),
      })),
      nextCursor: hasMore && last ? Buffer.from(String(last.id)).toString('base64url') : null,
    };
  }
}
