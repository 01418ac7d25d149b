import { Redis } from 'ioredis';
import { testQueuePrefix, testRedisUrl } from '@switchboard/testing';
import type { BudgetRow, ShareRow } from '../db/schema.js';
import { budgetCounter, mirrorBudgets, mirrorShares } from '../spend/spend.js';
import { type AdmissionRequest, QuotaGovernor } from './governor.js';

const budget = (extra: Partial<BudgetRow>): BudgetRow => ({
  id: 'b1',
  scope: 'group',
  subject: 'team',
  period: 'month',
  limitUsd: 1,
  limitTokens: null,
  mode: 'block',
  createdAt: new Date(),
  updatedAt: new Date(),
  ...extra,
});

describe('budgets and shares in the admission step (real Redis)', () => {
  const redis = new Redis(testRedisUrl);
  afterAll(() => redis.quit());
  const setup = async (budgets: BudgetRow[], shares: ShareRow[] = []) => {
    const prefix = testQueuePrefix();
    await mirrorBudgets(redis, prefix, budgets);
    await mirrorShares(redis, prefix, shares);
    return { prefix, g: new QuotaGovernor(redis, { prefix, windowMs: 60_000, safetyMarginMs: 0 }) };
  };
  const req = (jobId: string, cost: number, extra: Partial<AdmissionRequest> = {}): AdmissionRequest => ({
    modelId: 'm',
    quota: { requestsPerMinute: 100, tokensPerMinute: 1_000_000 },
    jobId,
    owner: 'ana',
    lane: 'chat',
    tokens: 100,
    spend: { subjects: ['user:ana', 'group:team'], worstCostUsd: cost, worstTokens: 100 },
    ...extra,
  });

  it('reserves the worst case, waits while only reservations stand in the way, refuses when settled spend leaves no room', async () => {
    const { prefix, g } = await setup([budget({})]);
    const a = await g.admit(req('a', 0.6));
    expect(a).toMatchObject({ admitted: true });
    // 0.6 reserved + 0.6 > 1: not refused (a may settle lower), asked to come back.
    expect(await g.admit(req('b', 0.6))).toMatchObject({ admitted: false, position: 1 });
    if (!a.admitted) throw new Error('unexpected');
    expect(await g.settleBudget(a.reservationId, 0.3, 50)).toBe(true);
    expect(await g.settleBudget(a.reservationId, 0.3, 50)).toBe(false); // once only
    const b = await g.admit(req('b', 0.6));
    expect(b).toMatchObject({ admitted: true });
    if (!b.admitted) throw new Error('unexpected');
    await g.settleBudget(b.reservationId, 0.5, 50);
    // Settled 0.8: a call that may cost 0.3 can never fit this period.
    expect(await g.admit(req('c', 0.3))).toEqual({ admitted: false, budgetExceeded: { budgetId: 'b1', period: 'month', limit: 'usd' } });
    expect(await g.admit(req('d', 0.1))).toMatchObject({ admitted: true });
    const counter = await budgetCounter(redis, prefix, { id: 'b1', period: 'month' }, new Date());
    expect(counter).toMatchObject({ spentUsd: 0.8, spentTokens: 100 });
    expect(counter.reservedUsd).toBeCloseTo(0.1, 9);
  });

  it('settles quota and budget and re-dates in one step (the end of a call), the budget once only', async () => {
    const { prefix, g } = await setup([budget({})]);
    const a = await g.admit(req('a', 0.6, { tokens: 900 }));
    if (!a.admitted) throw new Error('unexpected');
    const reservations = g.keys('m').reservations;
    const reservedAt = Number(await redis.zscore(reservations, a.reservationId));
    await new Promise((r) => setTimeout(r, 5));
    await g.admit(req('w', 0.1, { owner: 'bob', tokens: 999_950 })); // waits for tokens
    expect(await g.settle('m', a.reservationId, 300, 3, { budget: { costUsd: 0.3, tokens: 300 }, redate: true })).toEqual([{ lane: 'chat', jobId: 'w' }]);
    expect(Number(await redis.zscore(reservations, a.reservationId))).toBeGreaterThan(reservedAt);
    expect((await g.snapshot('m')).tokensInWindow).toBe(300);
    expect(await budgetCounter(redis, prefix, { id: 'b1', period: 'month' }, new Date())).toMatchObject({ spentUsd: 0.3, spentTokens: 300, reservedUsd: 0 });
    // Usage unknown: the quota keeps what it reserved, nobody is woken; the budget is not charged twice.
    expect(await g.settle('m', a.reservationId, null, 3, { budget: { costUsd: 0.3, tokens: 300 } })).toEqual([]);
    expect(await g.settleBudget(a.reservationId, 0.3, 300)).toBe(false);
    expect((await budgetCounter(redis, prefix, { id: 'b1', period: 'month' }, new Date())).spentUsd).toBe(0.3);
  });

  it('charges a reservation never settled at its worst case once it expires', async () => {
    const { prefix, g } = await setup([budget({})]);
    const a = await g.admit(req('a', 0.4));
    if (!a.admitted) throw new Error('unexpected');
    await redis.zadd(`${prefix}:budget:res-exp`, 0, a.reservationId); // its worker died long ago
    expect(await g.admit(req('b', 0.1))).toMatchObject({ admitted: true }); // the admission sweeps
    const counter = await budgetCounter(redis, prefix, { id: 'b1', period: 'month' }, new Date());
    expect(counter).toMatchObject({ spentUsd: 0.4, spentTokens: 100 });
    expect(counter.reservedUsd).toBeCloseTo(0.1, 9);
    expect(await redis.zscore(`${prefix}:budget:res-exp`, a.reservationId)).toBeNull();
    expect(await g.settleBudget(a.reservationId, 0.1, 10)).toBe(false); // charged once
  });

  it('gives a released reservation back whole; ignores budgets of other subjects; warn mode lets calls through flagged', async () => {
    const { g } = await setup([budget({ limitUsd: null, limitTokens: 150 }), budget({ id: 'w', scope: 'user', subject: 'ana', mode: 'warn', limitUsd: 0.1 }), budget({ id: 'x', subject: 'other' })]);
    const a = await g.admit(req('a', 0.5));
    expect(a).toMatchObject({ admitted: true, warnedBudgetId: 'w' });
    if (!a.admitted) throw new Error('unexpected');
    await g.release('m', a.reservationId);
    const b = await g.admit(req('b', 0.05));
    expect(b).toMatchObject({ admitted: true });
    if (!b.admitted) throw new Error('unexpected');
    expect(b.warnedBudgetId).toBeUndefined();
    await g.settleBudget(b.reservationId, 0.05, 100);
    // 100 tokens settled + 100 worst case > 150
    expect(await g.admit(req('c', 0.01))).toMatchObject({ admitted: false, budgetExceeded: { budgetId: 'b1', limit: 'tokens' } });
    expect(await g.admit(req('d', 0.01, { spend: { subjects: ['user:bob'], worstCostUsd: 0.01, worstTokens: 100 } }))).toMatchObject({ admitted: true });
  });

  it('caps a share at its maximum of the model and keeps another share’s minimum free while it waits', async () => {
    const share = (id: string, subject: string, extra: Partial<ShareRow>): ShareRow => ({
      id, scope: 'client', subject, modelId: null, minPercent: null, maxPercent: null, createdAt: new Date(), updatedAt: new Date(), ...extra,
    });
    const { g } = await setup([], [share('night', 'nightly', { maxPercent: 30 }), share('support', 'support', { scope: 'group', minPercent: 20 })]);
    const quota = { requestsPerMinute: 10, tokensPerMinute: 1_000_000 };
    const nightly = (id: string) => req(id, 0, { quota, lane: 'batch', owner: 'nightly', spend: { subjects: ['client:nightly'], worstCostUsd: 0, worstTokens: 100 } });
    for (const id of ['n1', 'n2', 'n3']) expect(await g.admit(nightly(id))).toMatchObject({ admitted: true });
    expect(await g.admit(nightly('n4'))).toMatchObject({ admitted: false });
    // Support has a call waiting (it asked once, under its minimum): 2 of the 10 stay free for it.
    const supportReq = (id: string) => req(id, 0, { quota, owner: 'sue', spend: { subjects: ['user:sue', 'group:support'], worstCostUsd: 0, worstTokens: 100 } });
    for (let i = 0; i < 5; i++) expect(await g.admit(req(`o${i}`, 0, { quota, owner: `o${i}`, spend: { subjects: [`user:o${i}`], worstCostUsd: 0, worstTokens: 100 } }))).toMatchObject({ admitted: true });
    expect(await g.admit(supportReq('s1'))).toMatchObject({ admitted: true });
    // 9 used; support still under its 2: the last one is kept for it, others wait.
    expect(await g.admit(req('o9', 0, { quota, owner: 'o9', spend: { subjects: ['user:o9'], worstCostUsd: 0, worstTokens: 100 } }))).toMatchObject({ admitted: false });
    expect(await g.admit(supportReq('s2'))).toMatchObject({ admitted: true });
  });

  it('lets a share’s waiting chat go before its batch call', async () => {
    const { g } = await setup([], [{ id: 'sup', scope: 'group', subject: 'support', modelId: null, minPercent: 20, maxPercent: null, createdAt: new Date(), updatedAt: new Date() }]);
    const quota = { requestsPerMinute: 10, tokensPerMinute: 1_000_000 };
    const other = (i: number) => req(`o${i}`, 0, { quota, owner: `o${i}`, spend: { subjects: [`user:o${i}`], worstCostUsd: 0, worstTokens: 100 } });
    const member = (id: string, lane: 'chat' | 'batch') =>
      req(id, 0, { quota, lane, owner: 'sue', spend: { subjects: ['user:sue', 'group:support'], worstCostUsd: 0, worstTokens: 100 } });
    const first = await g.admit(other(0));
    for (let i = 1; i < 10; i++) expect(await g.admit(other(i))).toMatchObject({ admitted: true });
    expect(await g.admit(member('chat-1', 'chat'))).toMatchObject({ admitted: false });
    expect(await g.admit(member('batch-1', 'batch'))).toMatchObject({ admitted: false });
    if (!first.admitted) throw new Error('unexpected');
    await g.release('m', first.reservationId);
    expect(await g.admit(member('batch-1', 'batch'))).toMatchObject({ admitted: false });
    expect(await g.admit(member('chat-1', 'chat'))).toMatchObject({ admitted: true });
  });
});
