import type { Budget, BudgetCreate, BudgetMode, BudgetPatch, BudgetPeriod, BudgetScope } from '@switchboard/contracts';
import { budgetLimits } from '@switchboard/contracts/constants';

export { budgetModes, budgetPeriods, budgetScopes } from '@switchboard/contracts/constants';
/** The contract's bounds (the API validates again and has the last word). */
export const budgetFormLimits = budgetLimits;

/** What the form holds: limits as typed (empty = none). */
export type BudgetFormValue = {
  scope: BudgetScope;
  subject: string;
  period: BudgetPeriod;
  limitUsd: string | number | null;
  limitTokens: string | number | null;
  mode: BudgetMode;
};

/** i18n keys under `budgets.errors.` per field. */
export type BudgetFormErrors = Partial<Record<'subject' | 'limitUsd' | 'limitTokens' | 'limits', string>>;

export const emptyBudgetForm = (): BudgetFormValue => ({ scope: 'user', subject: '', period: 'month', limitUsd: null, limitTokens: null, mode: 'block' });

export function formFromBudget(b: Budget): BudgetFormValue {
  return { scope: b.scope, subject: b.subject, period: b.period, limitUsd: b.limitUsd ?? null, limitTokens: b.limitTokens ?? null, mode: b.mode };
}

const blank = (v: string | number | null): boolean => v === null || String(v).trim() === '';

/** Checks the form the way the API will, and builds the create body. */
export function readBudgetForm(v: BudgetFormValue): { body: BudgetCreate; errors: null } | { body: null; errors: BudgetFormErrors } {
  const errors: BudgetFormErrors = {};
  const subject = v.subject.trim();
  if (!subject) errors.subject = 'subjectRequired';
  else if (subject.length > budgetFormLimits.maxSubjectChars) errors.subject = 'subjectTooLong';
  else if (/\p{Cc}/u.test(subject)) errors.subject = 'subjectInvalid';

  let limitUsd: number | undefined;
  if (!blank(v.limitUsd)) {
    limitUsd = Number(v.limitUsd);
    if (!Number.isFinite(limitUsd) || limitUsd <= 0 || limitUsd > budgetFormLimits.maxUsd) errors.limitUsd = 'usdRange';
  }
  let limitTokens: number | undefined;
  if (!blank(v.limitTokens)) {
    limitTokens = Number(v.limitTokens);
    if (!Number.isInteger(limitTokens) || limitTokens <= 0 || limitTokens > budgetFormLimits.maxTokens) errors.limitTokens = 'tokensRange';
  }
  if (limitUsd === undefined && limitTokens === undefined) errors.limits = 'needLimit';
  if (Object.keys(errors).length) return { body: null, errors };
  return {
    body: {
      scope: v.scope,
      subject,
      period: v.period,
      ...(limitUsd !== undefined ? { limitUsd } : {}),
      ...(limitTokens !== undefined ? { limitTokens } : {}),
      mode: v.mode,
    },
    errors: null,
  };
}

/** Only what changed, for PATCH; a limit cleared in the form becomes `null` (removed). */
export function budgetChanges(before: Budget, after: BudgetCreate): BudgetPatch {
  const patch: Record<string, unknown> = {};
  for (const k of ['scope', 'subject', 'period', 'mode'] as const) if (before[k] !== after[k]) patch[k] = after[k];
  for (const k of ['limitUsd', 'limitTokens'] as const) if ((before[k] ?? null) !== (after[k] ?? null)) patch[k] = after[k] ?? null;
  return patch as BudgetPatch;
}
