import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { RedisClient as Redis } from '@switchboard/server-core';
import type {
  AdminUsage,
  AdminUsageQuery,
  Budget,
  BudgetCreate,
  BudgetPatch,
  BudgetStatus,
  MeUsage,
  Share,
  ShareCreate,
  SharePatch,
} from '@switchboard/contracts';
import { callCostUsd, type ModelEntry, tokenizerRatioOf } from '@switchboard/contracts';
import {
  type AppConfig,
  budgetCounter,
  type BudgetRow,
  mirrorBudgets,
  mirrorShares,
  periodEnd,
  periodStart,
  seedBudgetCounter,
  type ShareRow,
} from '@switchboard/server-core';
import { AuditService } from '../audit/audit.service.js';
import type { Principal } from '../auth/principal.js';
import { AppError, notFound } from '../common/app-error.js';
import { APP_CONFIG } from '../config/tokens.js';
import { isUuid } from '../common/ids.js';
import { REDIS } from '../redis/redis.module.js';
import { type Payer, SpendRepository } from './spend.repository.js';

/** How often each node re-mirrors budgets and shares into Redis (heals a Redis loss or a lost race). */
const mirrorIntervalMs = 30_000;

export const payerOf = (p: Principal): Payer => ({ principal: p.sub, kind: p.kind, groups: p.groups });

/**
 * Budgets and shares: admin CRUD in Postgres (the record), mirrored into Redis where the admission
 * script reads them, so every API node and worker enforces the same definitions at once.
 */
@Injectable()
export class SpendService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(SpendService.name);
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly repository: SpendRepository,
    private readonly audit: AuditService,
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async onModuleInit() {
    await this.mirror().catch((err) => this.logger.error({ err }, 'budget mirror failed at boot; retrying in the background'));
    this.timer = setInterval(() => void this.mirror().catch((err) => this.logger.warn({ err }, 'budget mirror failed')), mirrorIntervalMs);
    this.timer.unref();
  }

  onApplicationShutdown() {
    clearInterval(this.timer);
  }

  /**
   * Writes every budget and share into Redis. A budget's counter for the current period is seeded
   * from the ledger once (a new budget counts what was already spent this period; a counter Redis
   * lost comes back).
   */
  async mirror(): Promise<void> {
    const prefix = this.config.queuePrefix;
    const [budgetRows, shareRows] = await Promise.all([this.repository.listBudgets(), this.repository.listShares()]);
    const now = new Date();
    for (const b of budgetRows) {
      if ((await budgetCounter(this.redis, prefix, b, now)).seeded) continue;
      const spent = await this.repository.spentBy(b, periodStart(b.period, now), periodEnd(b.period, now));
      await seedBudgetCounter(this.redis, prefix, b, now, spent);
    }
    await mirrorBudgets(this.redis, prefix, budgetRows);
    await mirrorShares(this.redis, prefix, shareRows);
  }

  listBudgets = async (): Promise<{ items: Budget[] }> => ({ items: (await this.repository.listBudgets()).map(toBudget) });

  async createBudget(actor: Principal, input: BudgetCreate): Promise<Budget> {
    const row = await this.repository.insertBudget({
      id: randomUUID(),
      scope: input.scope,
      subject: input.subject,
      period: input.period,
      limitUsd: input.limitUsd ?? null,
      limitTokens: input.limitTokens ?? null,
      mode: input.mode,
    });
    await this.changed(actor, 'budget.create', `budget:${row.id}`, undefined, toBudget(row));
    return toBudget(row);
  }

  async updateBudget(actor: Principal, id: string, patch: BudgetPatch): Promise<Budget> {
    const before = await this.requireBudget(id);
    const limitUsd = patch.limitUsd === undefined ? before.limitUsd : patch.limitUsd;
    const limitTokens = patch.limitTokens === undefined ? before.limitTokens : patch.limitTokens;
    if (limitUsd == null && limitTokens == null) {
      throw new AppError('validation_failed', 'A budget needs limitUsd or limitTokens', [{ path: 'limitUsd', message: 'one limit must remain' }]);
    }
    const row = await this.repository.updateBudget(id, { ...withoutUndefined(patch), limitUsd, limitTokens });
    if (!row) throw notFound('Budget');
    await this.changed(actor, 'budget.update', `budget:${id}`, toBudget(before), toBudget(row));
    return toBudget(row);
  }

  async deleteBudget(actor: Principal, id: string): Promise<void> {
    if (!isUuid(id)) throw notFound('Budget');
    const row = await this.repository.deleteBudget(id);
    if (!row) throw notFound('Budget');
    await this.changed(actor, 'budget.delete', `budget:${id}`, toBudget(row), undefined);
  }

  listShares = async (): Promise<{ items: Share[] }> => ({ items: (await this.repository.listShares()).map(toShare) });

  async createShare(actor: Principal, input: ShareCreate): Promise<Share> {
    const row = await this.repository.insertShare({
      id: randomUUID(),
      scope: input.scope,
      subject: input.subject,
      modelId: input.modelId ?? null,
      minPercent: input.minPercent ?? null,
      maxPercent: input.maxPercent ?? null,
    });
    await this.changed(actor, 'share.create', `share:${row.id}`, undefined, toShare(row));
    return toShare(row);
  }

  async updateShare(actor: Principal, id: string, patch: SharePatch): Promise<Share> {
    const before = isUuid(id) ? await this.repository.findShare(id) : undefined;
    if (!before) throw notFound('Share');
    const minPercent = patch.minPercent === undefined ? before.minPercent : patch.minPercent;
    const maxPercent = patch.maxPercent === undefined ? before.maxPercent : patch.maxPercent;
    if (minPercent == null && maxPercent == null) {
      throw new AppError('validation_failed', 'A share needs minPercent or maxPercent', [{ path: 'minPercent', message: 'one bound must remain' }]);
    }
    if (minPercent != null && maxPercent != null && minPercent > maxPercent) {
      throw new AppError('validation_failed', 'minPercent must not exceed maxPercent', [{ path: 'minPercent', message: 'above maxPercent' }]);
    }
    const row = await this.repository.updateShare(id, { ...withoutUndefined(patch), minPercent, maxPercent });
    if (!row) throw notFound('Share');
    await this.changed(actor, 'share.update', `share:${id}`, toShare(before), toShare(row));
    return toShare(row);
  }

  async deleteShare(actor: Principal, id: string): Promise<void> {
    if (!isUuid(id)) throw notFound('Share');
    const row = await this.repository.deleteShare(id);
    if (!row) throw notFound('Share');
    await this.changed(actor, 'share.delete', `share:${id}`, toShare(row), undefined);
  }

  /** The caller's spend this calendar month (UTC) and every budget that applies, with its counter. */
  async meUsage(principal: Principal): Promise<MeUsage> {
    const now = new Date();
    const [totals, rows] = await Promise.all([
      this.repository.totalsOf(principal.sub, periodStart('month', now), periodEnd('month', now)),
      this.repository.budgetsOf(payerOf(principal)),
    ]);
    return { period: 'month', ...totals, budgets: await Promise.all(rows.map((b) => this.status(b, now))) };
  }

  async adminUsage(query: AdminUsageQuery): Promise<AdminUsage> {
    const now = new Date();
    const from = query.from ?? periodStart('month', now);
    const to = query.to ?? new Date(now.getTime() + 1);
    if (from >= to) throw new AppError('validation_failed', 'from must be before to', [{ path: 'from', message: 'after to' }]);
    return { from: from.toISOString(), to: to.toISOString(), groupBy: query.groupBy, rows: await this.repository.usage(from, to, query.groupBy) };
  }

  /**
   * Refuses a submission that cannot fit (402 `budget_exceeded`): a `block` budget of the caller
   * whose settled spend this period plus the least the request will cost — its texts' input alone,
   * about 4 characters a Claude 3 token, times the model's tokenizer ratio — is over its limit.
   * Anything else is decided at admission, where reservations are held.
   */
  async assertRoom(principal: Principal, texts: { chars: number; model: ModelEntry }[], what: string): Promise<void> {
    let leastTokens = 0;
    let leastCostUsd = 0;
    for (const t of texts) {
      const tokens = Math.ceil((t.chars / 4) * tokenizerRatioOf(t.model));
      leastTokens += tokens;
      leastCostUsd += callCostUsd(t.model.price, { inputTokens: tokens, outputTokens: 0 });
    }
    const rows = (await this.repository.budgetsOf(payerOf(principal))).filter((b) => b.mode === 'block');
    const now = new Date();
    for (const b of rows) {
      const c = await budgetCounter(this.redis, this.config.queuePrefix, b, now);
      const over = (b.limitUsd != null && c.spentUsd + leastCostUsd >= b.limitUsd) || (b.limitTokens != null && c.spentTokens + leastTokens >= b.limitTokens);
      if (!over) continue;
      const resetsAt = periodEnd(b.period, now).toISOString();
      await this.audit.record({ actor: principal.sub, action: 'call.refused', target: what, details: { code: 'budget_exceeded', budgetId: b.id } });
      throw new AppError('budget_exceeded', `Your budget is used up until ${resetsAt.replace('.000Z', 'Z')} (UTC); ask an admin to raise it`, {
        budgetId: b.id,
        resetsAt,
      });
    }
  }

  private async status(b: BudgetRow, now: Date): Promise<BudgetStatus> {
    const c = await budgetCounter(this.redis, this.config.queuePrefix, b, now);
    const { createdAt: _c, updatedAt: _u, ...view } = toBudget(b);
    return { ...view, spentUsd: c.spentUsd, spentTokens: c.spentTokens, resetsAt: periodEnd(b.period, now).toISOString() };
  }

  private async requireBudget(id: string): Promise<BudgetRow> {
    const row = isUuid(id) ? await this.repository.findBudget(id) : undefined;
    if (!row) throw notFound('Budget');
    return row;
  }

  /** After a change in Postgres: Redis gets the new definitions at once, the audit log the change. */
  private async changed(actor: Principal, action: 'budget.create' | 'budget.update' | 'budget.delete' | 'share.create' | 'share.update' | 'share.delete', target: string, before: unknown, after: unknown) {
    await this.mirror();
    await this.audit.record({ actor: actor.sub, action, target, before, after });
  }
}

const withoutUndefined = <T extends object>(o: T) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;

export function toBudget(r: BudgetRow): Budget {
  return {
    id: r.id,
    scope: r.scope,
    subject: r.subject,
    period: r.period,
    ...(r.limitUsd != null ? { limitUsd: r.limitUsd } : {}),
    ...(r.limitTokens != null ? { limitTokens: r.limitTokens } : {}),
    mode: r.mode,
    createdAt: r.createdAt.toISOString(),
    updatedAt: r.updatedAt.toISOString(),
  };
}

export function toShare(r: ShareRow): Share {
  return {
    id: r.id,
    scope: r.scope,
    subject: r.subject,
    ...(r.modelId ? { modelId: r.modelId } : {}),
    ...(r.minPercent != null ? { minPercent: r.minPercent } : {}),
    ...(r.maxPercent != null ? { maxPercent: r.maxPercent } : {}),
    createdAt: r.createdAt.toISOString(),
    updatedAt: r.updatedAt.toISOString(),
  };
}
