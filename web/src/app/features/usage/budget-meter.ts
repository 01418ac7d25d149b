import type { BudgetStatus, MeUsage } from '@switchboard/contracts';

/** From this share of a limit on, the portal warns (issue 15: "a warning at 80 %"). */
export const WARN_AT = 0.8;

export type BudgetLevel = 'ok' | 'warn' | 'over';

/**
 * How much of a budget is used, 0…∞ (1 = the limit): the larger of the USD and the token share when
 * both limits are set. A budget without a usable limit counts as unused.
 */
export function budgetFraction(b: Pick<BudgetStatus, 'limitUsd' | 'limitTokens' | 'spentUsd' | 'spentTokens'>): number {
  const parts: number[] = [];
  if (b.limitUsd !== undefined && b.limitUsd > 0) parts.push(Math.max(0, b.spentUsd) / b.limitUsd);
  if (b.limitTokens !== undefined && b.limitTokens > 0) parts.push(Math.max(0, b.spentTokens) / b.limitTokens);
  return parts.length ? Math.max(...parts) : 0;
}

export function budgetLevel(fraction: number): BudgetLevel {
  if (fraction >= 1) return 'over';
  return fraction >= WARN_AT ? 'warn' : 'ok';
}

/** Whole percent for display, rounded down so 79.9 % does not read as the 80 % warning. */
export function percentOf(fraction: number): number {
  return Math.floor(fraction * 100 + 1e-9);
}

/** What the header shows: the budget closest to its limit (a blocking one first on a tie), or none. */
export type BudgetSummary = {
  budget: BudgetStatus;
  fraction: number;
  percent: number;
  level: BudgetLevel;
  /** What is left before the limit, in the budget's own unit(s); 0 when over. */
  remainingUsd?: number;
  remainingTokens?: number;
};

export function summarizeBudget(b: BudgetStatus): BudgetSummary {
  const fraction = budgetFraction(b);
  return {
    budget: b,
    fraction,
    percent: percentOf(fraction),
    level: budgetLevel(fraction),
    ...(b.limitUsd !== undefined ? { remainingUsd: Math.max(0, b.limitUsd - b.spentUsd) } : {}),
    ...(b.limitTokens !== undefined ? { remainingTokens: Math.max(0, b.limitTokens - b.spentTokens) } : {}),
  };
}

export function tightestBudget(usage: Pick<MeUsage, 'budgets'> | null): BudgetSummary | null {
  if (!usage?.budgets.length) return null;
  return usage.budgets
    .map(summarizeBudget)
    .reduce((best, s) => {
      if (s.fraction !== best.fraction) return s.fraction > best.fraction ? s : best;
      return s.budget.mode === 'block' && best.budget.mode !== 'block' ? s : best;
    });
}

/** The bar's width: the used share, capped at the full bar. */
export function barWidth(fraction: number): string {
  return `${Math.min(100, Math.max(0, fraction * 100)).toFixed(1)}%`;
}
