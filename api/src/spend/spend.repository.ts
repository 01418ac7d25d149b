import { Inject, Injectable } from '@nestjs/common';
import { and, asc, eq, inArray, or, sql, type SQL } from 'drizzle-orm';
import type { UsageGroupBy, UsageRow } from '@switchboard/contracts';
import { type BudgetRow, budgets, type Database, type Db, quotaShares, type ShareRow, usageLedger } from '@switchboard/server-core';
import { DATABASE } from '../database/database.module.js';

export type BudgetValues = Omit<BudgetRow, 'createdAt' | 'updatedAt'>;
export type ShareValues = Omit<ShareRow, 'createdAt' | 'updatedAt'>;
/** Who is asking, as budgets see it. */
export type Payer = { principal: string; kind: 'person' | 'client'; groups: readonly string[] };

/** The only I/O of budgets, shares and the usage ledger's read side (the worker writes the ledger). */
@Injectable()
export class SpendRepository {
  private readonly db: Db;

  constructor(@Inject(DATABASE) database: Database) {
    this.db = database.db;
  }

  listBudgets(): Promise<BudgetRow[]> {
    return this.db.select().from(budgets).orderBy(asc(budgets.createdAt), asc(budgets.id));
  }

  async findBudget(id: string): Promise<BudgetRow | undefined> {
    const [row] = await this.db.select().from(budgets).where(eq(budgets.id, id));
    return row;
  }

  /** The budgets that apply to a caller: its own (user or client) and its groups'. */
  budgetsOf(payer: Payer): Promise<BudgetRow[]> {
    const own = and(eq(budgets.scope, payer.kind === 'client' ? 'client' : 'user'), eq(budgets.subject, payer.principal))!;
    const where: SQL = payer.groups.length ? or(own, and(eq(budgets.scope, 'group'), inArray(budgets.subject, [...payer.groups])))! : own;
    return this.db.select().from(budgets).where(where).orderBy(asc(budgets.createdAt));
  }

  async insertBudget(values: BudgetValues): Promise<BudgetRow> {
    const [row] = await this.db.insert(budgets).values(values).returning();
    return row!;
  }

  async updateBudget(id: string, values: Partial<BudgetValues>): Promise<BudgetRow | undefined> {
    const [row] = await this.db.update(budgets).set({ ...values, updatedAt: new Date() }).where(eq(budgets.id, id)).returning();
    return row;
  }

  async deleteBudget(id: string): Promise<BudgetRow | undefined> {
    const [row] = await this.db.delete(budgets).where(eq(budgets.id, id)).returning();
    return row;
  }

  listShares(): Promise<ShareRow[]> {
    return this.db.select().from(quotaShares).orderBy(asc(quotaShares.createdAt), asc(quotaShares.id));
  }

  async findShare(id: string): Promise<ShareRow | undefined> {
    const [row] = await this.db.select().from(quotaShares).where(eq(quotaShares.id, id));
    return row;
  }

  async insertShare(values: ShareValues): Promise<ShareRow> {
    const [row] = await this.db.insert(quotaShares).values(values).returning();
    return row!;
  }

  async updateShare(id: string, values: Partial<ShareValues>): Promise<ShareRow | undefined> {
    const [row] = await this.db.update(quotaShares).set({ ...values, updatedAt: new Date() }).where(eq(quotaShares.id, id)).returning();
    return row;
  }

  async deleteShare(id: string): Promise<ShareRow | undefined> {
    const [row] = await this.db.delete(quotaShares).where(eq(quotaShares.id, id)).returning();
    return row;
  }

  /** What a budget's subject spent in [from, to) by the ledger (seeds a counter Redis lost). */
  async spentBy(budget: Pick<BudgetRow, 'scope' | 'subject'>, from: Date, to: Date): Promise<{ usd: number; tokens: number }> {
    const who =
      budget.scope === 'group'
        ? sql`${budget.subject} = any(${usageLedger.groups})`
        : sql`${usageLedger.principal} = ${budget.subject} and ${usageLedger.principalKind} = ${budget.scope === 'client' ? 'client' : 'person'}`;
    const result = await this.db.execute<{ usd: number | null; tokens: number | null }>(sql`
      select sum(${usageLedger.costUsd})::float8 as usd,
             sum(${usageLedger.inputTokens} + ${usageLedger.outputTokens} + ${usageLedger.cacheReadTokens} + ${usageLedger.cacheWriteTokens})::float8 as tokens
      from ${usageLedger}
      where ${who} and ${usageLedger.at} >= ${from.toISOString()}::timestamptz and ${usageLedger.at} < ${to.toISOString()}::timestamptz`);
    const row = result.rows[0];
    return { usd: Number(row?.usd ?? 0), tokens: Number(row?.tokens ?? 0) };
  }

  /** One principal's totals in [from, to). */
  async totalsOf(principal: string, from: Date, to: Date): Promise<{ costUsd: number; inputTokens: number; outputTokens: number }> {
    const result = await this.db.execute<{ cost: number | null; input: number | null; output: number | null }>(sql`
      select sum(${usageLedger.costUsd})::float8 as cost, sum(${usageLedger.inputTokens})::float8 as input, sum(${usageLedger.outputTokens})::float8 as output
      from ${usageLedger}
      where ${usageLedger.principal} = ${principal} and ${usageLedger.at} >= ${from.toISOString()}::timestamptz and ${usageLedger.at} < ${to.toISOString()}::timestamptz`);
    const row = result.rows[0];
    return { costUsd: Number(row?.cost ?? 0), inputTokens: Number(row?.input ?? 0), outputTokens: Number(row?.output ?? 0) };
  }

  /** Ledger rows in [from, to) grouped; `group` counts a call once per group of its caller. */
  async usage(from: Date, to: Date, groupBy: UsageGroupBy): Promise<UsageRow[]> {
    const key: Record<UsageGroupBy, SQL> = {
      user: sql`${usageLedger.principal}`,
      client: sql`${usageLedger.principal}`,
      model: sql`${usageLedger.modelId}`,
      day: sql`to_char(${usageLedger.at} at time zone 'UTC', 'YYYY-MM-DD')`,
      group: sql`g.name`,
    };
    const join = groupBy === 'group' ? sql`cross join lateral unnest(${usageLedger.groups}) as g(name)` : sql``;
    const kind =
      groupBy === 'user' ? sql`and ${usageLedger.principalKind} = 'person'` : groupBy === 'client' ? sql`and ${usageLedger.principalKind} = 'client'` : sql``;
    const result = await this.db.execute<Record<string, string | number>>(sql`
      select ${key[groupBy]} as key, count(*)::int as calls,
             sum(${usageLedger.inputTokens})::float8 as input, sum(${usageLedger.outputTokens})::float8 as output,
             sum(${usageLedger.cacheReadTokens})::float8 as cache_read, sum(${usageLedger.cacheWriteTokens})::float8 as cache_write,
             sum(${usageLedger.costUsd})::float8 as cost
      from ${usageLedger} ${join}
      where ${usageLedger.at} >= ${from.toISOString()}::timestamptz and ${usageLedger.at} < ${to.toISOString()}::timestamptz ${kind}
      group by 1
      order by ${groupBy === 'day' ? sql`1 asc` : sql`cost desc, 1 asc`}
      limit 10000`);
    return result.rows.map((r) => ({
      key: String(r.key),
      calls: Number(r.calls),
      inputTokens: Number(r.input ?? 0),
      outputTokens: Number(r.output ?? 0),
      cacheReadTokens: Number(r.cache_read ?? 0),
      cacheWriteTokens: Number(r.cache_write ?? 0),
      costUsd: Number(r.cost ?? 0),
    }));
  }
}
