import type { Budget } from '@switchboard/contracts';
import { budgetChanges, emptyBudgetForm, formFromBudget, readBudgetForm } from './budget-form';

const saved: Budget = {
  id: 'b1', scope: 'group', subject: 'support', period: 'month', limitUsd: 50, mode: 'block',
  createdAt: '2026-11-01T00:00:00Z', updatedAt: '2026-11-01T00:00:00Z',
};

describe('budget form', () => {
  it('builds the create body, trimming the subject and reading typed numbers', () => {
    const r = readBudgetForm({ ...emptyBudgetForm(), subject: '  local:ana ', limitUsd: '12.5', limitTokens: '' });
    expect(r.errors).toBeNull();
    expect(r.body).toEqual({ scope: 'user', subject: 'local:ana', period: 'month', limitUsd: 12.5, mode: 'block' });
    expect(readBudgetForm({ ...emptyBudgetForm(), subject: 'nightly', scope: 'client', period: 'day', limitTokens: 200000, mode: 'warn' }).body)
      .toEqual({ scope: 'client', subject: 'nightly', period: 'day', limitTokens: 200000, mode: 'warn' });
  });

  it('says what is wrong, per field, as the API would refuse it', () => {
    expect(readBudgetForm(emptyBudgetForm()).errors).toEqual({ subject: 'subjectRequired', limits: 'needLimit' });
    expect(readBudgetForm({ ...emptyBudgetForm(), subject: 'x'.repeat(201), limitUsd: 1 }).errors).toEqual({ subject: 'subjectTooLong' });
    expect(readBudgetForm({ ...emptyBudgetForm(), subject: 'a\u0007b', limitUsd: 1 }).errors).toEqual({ subject: 'subjectInvalid' });
    expect(readBudgetForm({ ...emptyBudgetForm(), subject: 'a', limitUsd: '0' }).errors).toEqual({ limitUsd: 'usdRange' });
    expect(readBudgetForm({ ...emptyBudgetForm(), subject: 'a', limitUsd: '-3' }).errors).toEqual({ limitUsd: 'usdRange' });
    expect(readBudgetForm({ ...emptyBudgetForm(), subject: 'a', limitUsd: 'abc' }).errors).toEqual({ limitUsd: 'usdRange' });
    expect(readBudgetForm({ ...emptyBudgetForm(), subject: 'a', limitUsd: 20_000_000 }).errors).toEqual({ limitUsd: 'usdRange' });
    expect(readBudgetForm({ ...emptyBudgetForm(), subject: 'a', limitTokens: '1.5' }).errors).toEqual({ limitTokens: 'tokensRange' });
  });

  it('patches only what changed; a cleared limit is removed with null', () => {
    const form = formFromBudget(saved);
    expect(form).toMatchObject({ limitUsd: 50, limitTokens: null });
    const same = readBudgetForm(form).body!;
    expect(budgetChanges(saved, same)).toEqual({});
    const next = readBudgetForm({ ...form, limitUsd: '', limitTokens: '1000', mode: 'warn' }).body!;
    expect(budgetChanges(saved, next)).toEqual({ limitUsd: null, limitTokens: 1000, mode: 'warn' });
  });
});
