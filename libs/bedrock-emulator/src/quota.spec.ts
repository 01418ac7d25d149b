import { QuotaTracker } from './quota.js';

describe('QuotaTracker (sliding window)', () => {
  let now = 0;
  const clock = () => now;

  beforeEach(() => {
    now = 1_000_000;
  });

  it('limits requests per window, counting each at its admission instant', () => {
    const q = new QuotaTracker(10_000, clock);
    const quota = { requestsPerMinute: 3, tokensPerMinute: 1e9 };
    expect(q.admit('m', quota, 1).ok).toBe(true);
    now += 4_000;
    expect(q.admit('m', quota, 1).ok).toBe(true);
    expect(q.admit('m', quota, 1).ok).toBe(true);
    expect(q.admit('m', quota, 1)).toEqual({ ok: false, reason: 'requests' });
    now += 6_000; // the first request (t=0) leaves the window at exactly t=10s
    expect(q.admit('m', quota, 1).ok).toBe(true);
    expect(q.admit('m', quota, 1).ok).toBe(false);
    expect(q.admit('other', quota, 1).ok).toBe(true);
  });

  it('reserves input + maxTokens at admission and settles to actual usage', () => {
    const q = new QuotaTracker(10_000, clock);
    const quota = { requestsPerMinute: 100, tokensPerMinute: 1_000 };
    const first = q.admit('m', quota, 600);
    expect(first.ok).toBe(true);
    expect(q.admit('m', quota, 600)).toEqual({ ok: false, reason: 'tokens' });
    if (first.ok) first.reservation.settle(150);
    expect(q.usage('m', quota).tokens).toBe(150);
    expect(q.admit('m', quota, 600).ok).toBe(true);
    expect(q.usage('m', quota)).toEqual({ requests: 2, tokens: 750, requestsPerMinute: 100, tokensPerMinute: 1_000 });
    now += 10_000;
    expect(q.usage('m', quota).tokens).toBe(0);
  });

  it('ignores a settle after the entry left the window', () => {
    const q = new QuotaTracker(1_000, clock);
    const quota = { requestsPerMinute: 100, tokensPerMinute: 1_000 };
    const r = q.admit('m', quota, 500);
    now += 2_000;
    expect(q.usage('m', quota).tokens).toBe(0);
    if (r.ok) r.reservation.settle(900);
    expect(q.usage('m', quota).tokens).toBe(0);
  });
});
