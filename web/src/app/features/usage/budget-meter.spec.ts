import type { BudgetStatus } from '@switchboard/contracts';
import { WARN_AT, barWidth, budgetFraction, budgetLevel, percentOf, summarizeBudget, tightestBudget } from './budget-meter';

const budget = (over: Partial<BudgetStatus>): BudgetStatus => ({
  id: 'b1', scope: 'user', subject: 'local:ana', period: 'month', mode: 'block', spentUsd: 0, spentTokens: 0, resetsAt: '2026-12-01T00:00:00.000Z', ...over,
});

describe('budget share and warning level', () => {
  it('takes the larger of the USD and the token share', () => {
    expect(budgetFraction(budget({ limitUsd: 10, spentUsd: 2 }))).toBeCloseTo(0.2);
    expect(budgetFraction(budget({ limitTokens: 1000, spentTokens: 900 }))).toBeCloseTo(0.9);
    expect(budgetFraction(budget({ limitUsd: 10, spentUsd: 2, limitTokens: 1000, spentTokens: 500 }))).toBeCloseTo(0.5);
    expect(budgetFraction(budget({ limitUsd: 10, spentUsd: 12 }))).toBeCloseTo(1.2);
  });

  it('counts a budget without a usable limit as unused and ignores negative spend', () => {
    expect(budgetFraction(budget({}))).toBe(0);
    expect(budgetFraction(budget({ limitUsd: 0, spentUsd: 5 }))).toBe(0);
    expect(budgetFraction(budget({ limitUsd: 10, spentUsd: -1 }))).toBe(0);
  });

  it('warns from 80 % and is over from 100 %', () => {
    expect(WARN_AT).toBe(0.8);
    expect(budgetLevel(0)).toBe('ok');
    expect(budgetLevel(0.799)).toBe('ok');
    expect(budgetLevel(0.8)).toBe('warn');
    expect(budgetLevel(0.999)).toBe('warn');
    expect(budgetLevel(1)).toBe('over');
    expect(budgetLevel(3)).toBe('over');
  });

  it('shows whole percent rounded down, and a bar never wider than full', () => {
    expect(percentOf(0.7999)).toBe(79);
    expect(percentOf(0.8)).toBe(80);
    expect(percentOf(0.29)).toBe(29);
    expect(barWidth(0.5)).toBe('50.0%');
    expect(barWidth(1.7)).toBe('100.0%');
    expect(barWidth(-1)).toBe('0.0%');
  });

  it('tells what remains in each limit, never below zero', () => {
    const s = summarizeBudget(budget({ limitUsd: 10, spentUsd: 8.5, limitTokens: 100, spentTokens: 120 }));
    expect(s.remainingUsd).toBeCloseTo(1.5);
    expect(s.remainingTokens).toBe(0);
    expect(s.level).toBe('over');
    expect(summarizeBudget(budget({ limitUsd: 10 })).remainingTokens).toBeUndefined();
  });

  it('picks the budget closest to its limit, a blocking one on a tie', () => {
    expect(tightestBudget(null)).toBeNull();
    expect(tightestBudget({ budgets: [] })).toBeNull();
    const a = budget({ id: 'a', limitUsd: 10, spentUsd: 5 });
    const b = budget({ id: 'b', limitUsd: 10, spentUsd: 9, scope: 'group', subject: 'support' });
    expect(tightestBudget({ budgets: [a, b] })!.budget.id).toBe('b');
    const warn = budget({ id: 'w', limitUsd: 10, spentUsd: 5, mode: 'warn' });
    expect(tightestBudget({ budgets: [warn, a] })!.budget.id).toBe('a');
    expect(tightestBudget({ budgets: [a, warn] })!.budget.id).toBe('a');
  });
});
