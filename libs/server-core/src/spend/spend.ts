import { type SQL, sql, type SQLWrapper } from 'drizzle-orm';
import type { ModelEntry, Usage } from '@switchboard/contracts';
import type { RedisClient as Redis } from '../redis.js';
import type { Db } from '../db/database.js';
import { auditLog, type BudgetRow, type LedgerPurpose, type ShareRow, usageLedger } from '../db/schema.js';
import { periodKey } from '../quota/governor.js';

/** Who a call is for, as budgets, shares and the ledger see it. */
export type Payer = { principal: string; kind: 'person' | 'client'; groups: string[] };

/** The budget/share subjects of a payer: `user:<sub>` or `client:<id>`, and `group:<name>` per group. */
export function subjectsOf(payer: Payer): string[] {
  return [`${payer.kind === 'client' ? 'client' : 'user'}:${payer.principal}`, ...payer.groups.map((g) => `group:${g}`)];
}

/**
 * The most a call may cost: its input estimate at the highest input price (a cache write costs
 * more than plain input) plus every output token it may produce.
 */
export function worstCaseCostUsd(model: ModelEntry, inputTokens: number, maxOutputTokens: number): number {
  const p = model.price;
  const inputPer1k = Math.max(p.inputPer1k, p.cacheWritePer1k ?? 0, p.cacheReadPer1k ?? 0);
  return (inputTokens / 1000) * inputPer1k + (maxOutputTokens / 1000) * p.outputPer1k;
}

/** Every token a call was billed for (budgets in tokens count them all). */
export function tokensOf(usage: Usage | null | undefined): number {
  if (!usage) return 0;
  return usage.inputTokens + usage.outputTokens + (usage.cacheReadTokens ?? 0) + (usage.cacheWriteTokens ?? 0);
}

/** A call refused at admission because a `block` budget is spent. */
export class BudgetExceededError extends Error {
  readonly code = 'budget_exceeded';
  constructor(
    readonly budgetId: string,
    readonly resetsAt: Date,
  ) {
    super(`Your budget is used up until ${resetsAt.toISOString().replace('.000Z', 'Z')} (UTC); ask an admin to raise it`);
    this.name = 'BudgetExceededError';
  }
}

/** The budget definitions as the admission script reads them (budget.lua: <prefix>:budget:defs). */
export async function mirrorBudgets(redis: Redis, prefix: string, rows: BudgetRow[]): Promise<void> {
  const bySubject = new Map<string, unknown[]>();
  for (const b of rows) {
    const key = `${b.scope}:${b.subject}`;
    const def = {
      id: b.id,
      period: b.period,
      mode: b.mode,
      ...(b.limitUsd != null ? { usd: Math.round(b.limitUsd * 1e9) } : {}),
      ...(b.limitTokens != null ? { tok: b.limitTokens } : {}),
    };
    bySubject.set(key, [...(bySubject.get(key) ?? []), def]);
  }
  const key = `${prefix}:budget:defs`;
  const tx = redis.multi().del(key);
  if (bySubject.size) tx.hset(key, Object.fromEntries([...bySubject].map(([k, v]) => [k, JSON.stringify(v)])));
  await tx.exec();
}

/** The share definitions as the admission script reads them (budget.lua: <prefix>:shares:defs). */
export async function mirrorShares(redis: Redis, prefix: string, rows: ShareRow[]): Promise<void> {
  const key = `${prefix}:shares:defs`;
  const tx = redis.multi().del(key);
  if (rows.length) {
    tx.hset(
      key,
      Object.fromEntries(
        rows.map((s) => [
          s.id,
          JSON.stringify({
            id: s.id,
            k: `${s.scope}:${s.subject}`,
            ...(s.modelId ? { m: s.modelId } : {}),
            ...(s.minPercent != null ? { mn: s.minPercent } : {}),
            ...(s.maxPercent != null ? { mx: s.maxPercent } : {}),
          }),
        ]),
      ),
    );
  }
  await tx.exec();
}

export type BudgetCounter = {
  spentUsd: number;
  spentTokens: number;
  reservedUsd: number;
  reservedTokens: number;
  /** The counter was seeded from the ledger for this period (so it need not be again). */
  seeded: boolean;
};

/** The budget's counter for the period containing `at` (budget.lua builds the same key). */
const budgetCounterKey = (prefix: string, budget: Pick<BudgetRow, 'id' | 'period'>, at: Date) =>
  `${prefix}:budget:spent:${budget.id}:${periodKey(budget.period, at)}`;

/** What the budget's counter for the period containing `at` holds (settled and reserved). */
export async function budgetCounter(redis: Redis, prefix: string, budget: Pick<BudgetRow, 'id' | 'period'>, at: Date): Promise<BudgetCounter> {
  const [usd, tok, rusd, rtok, seeded] = await redis.hmget(budgetCounterKey(prefix, budget, at), 'usd', 'tok', 'rusd', 'rtok', 'seeded');
  return {
    spentUsd: Number(usd ?? 0) / 1e9,
    spentTokens: Number(tok ?? 0),
    reservedUsd: Number(rusd ?? 0) / 1e9,
    reservedTokens: Number(rtok ?? 0),
    seeded: seeded === '1',
  };
}

/**
 * A new budget, a new period, or Redis lost its data: the period's counter starts from what the
 * ledger says was spent (only fields that are missing, so a counter is never lowered), once.
 */
export async function seedBudgetCounter(redis: Redis, prefix: string, budget: Pick<BudgetRow, 'id' | 'period'>, at: Date, spent: { usd: number; tokens: number }) {
  const key = budgetCounterKey(prefix, budget, at);
  const tx = redis.multi().hsetnx(key, 'usd', Math.round(spent.usd * 1e9)).hsetnx(key, 'tok', Math.ceil(spent.tokens)).hset(key, 'seeded', '1');
  tx.pexpire(key, (budget.period === 'day' ? 3 : 63) * 86_400_000);
  await tx.exec();
}

export type LedgerEntry = {
  /** The governor's reservation id of the call (one per admitted call): the idempotent key. */
  reservationId: string;
  purpose: LedgerPurpose;
  payer: Payer;
  model: ModelEntry;
  usage: Usage;
  costUsd: number;
  jobId?: string;
  conversationId?: string;
  budgetFlag?: string;
};

/** `ledger as (…),` to open a WITH list with ledger rows (SpendRepository.ledgerWrite), or nothing. */
export const ledgerCte = (ledger: SQL | undefined): SQL => (ledger ? sql`ledger as (${ledger}), ` : sql``);

/** Writes ledger rows and audit entries (worker side). */
export class SpendRepository {
  constructor(private readonly db: Db) {}

  /** One row per call; a repeated write of the same call is a no-op. */
  async record(...entries: LedgerEntry[]): Promise<void> {
    if (entries.length) await this.db.execute(this.ledgerInsert(entries));
  }

  /**
   * The rows as an INSERT for another statement's WITH list (see ledgerCte): the rows and that
   * statement's own writes are then written together or not at all, in one round trip (issue 19).
   */
  ledgerWrite(entries: LedgerEntry[]): SQL | undefined {
    return entries.length ? this.ledgerInsert(entries) : undefined;
  }

  /** Ledger rows (ledgerWrite) and another write (with RETURNING) as one statement: that write's row count. */
  async recordWith(ledger: SQL | undefined, write: SQLWrapper): Promise<number> {
    const result = await this.db.execute<{ n: number }>(sql`with ${ledgerCte(ledger)}written as (${write.getSQL()}) select count(*)::int as n from written`);
    return result.rows[0]?.n ?? 0;
  }

  /**
   * Written out rather than built with insert().values(): drizzle's builder maps every column of
   * every row on each call (about 60 µs a row here), and this runs once per model call (issue 19).
   */
  private ledgerInsert(entries: LedgerEntry[]): SQL {
    const rows = entries.map(
      (e) => sql`(${`${e.reservationId}/${e.purpose}`}, ${e.payer.principal}, ${e.payer.kind}, ${sql.param(e.payer.groups)}::text[], ${e.model.id},
        ${e.purpose}, ${e.usage.inputTokens}, ${e.usage.outputTokens}, ${e.usage.cacheReadTokens ?? 0}, ${e.usage.cacheWriteTokens ?? 0},
        ${e.costUsd}, ${e.jobId ?? null}, ${e.conversationId ?? null}::uuid, ${e.budgetFlag ?? null})`,
    );
    return sql`insert into ${usageLedger} (call_key, principal, principal_kind, groups, model_id, purpose, input_tokens, output_tokens,
        cache_read_tokens, cache_write_tokens, cost_usd, job_id, conversation_id, budget_flag)
      values ${sql.join(rows, sql`, `)} on conflict (call_key) do nothing`;
  }

  async audit(entry: { actor: string; action: string; target?: string; details?: unknown }): Promise<void> {
    await this.db.insert(auditLog).values({ actor: entry.actor, action: entry.action, target: entry.target ?? null, details: entry.details ?? null });
  }
}
