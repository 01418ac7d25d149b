import { Redis } from 'ioredis';
import { testQueuePrefix, testRedisUrl } from '@switchboard/testing';
import { type AdmissionRequest, QuotaGovernor } from './governor.js';

describe('QuotaGovernor on real Redis', () => {
  const redis = new Redis(testRedisUrl);
  afterAll(() => redis.quit());
  const make = (windowMs = 2000) => new QuotaGovernor(redis, { prefix: testQueuePrefix(), windowMs, safetyMarginMs: 0 });
  const req = (jobId: string, extra: Partial<AdmissionRequest> = {}): AdmissionRequest => ({
    modelId: 'm',
    quota: { requestsPerMinute: 3, tokensPerMinute: 1000 },
    jobId,
    owner: 'u1',
    lane: 'chat',
    tokens: 100,
    ...extra,
  });

  it('admits up to the request quota in the window, then tells when to come back', async () => {
    const g = make();
    for (const id of ['a', 'b', 'c']) expect(await g.admit(req(id))).toMatchObject({ admitted: true });
    const refused = await g.admit(req('d'));
    expect(refused).toMatchObject({ admitted: false, position: 1 });
    if (refused.admitted || 'never' in refused) throw new Error('unexpected');
    expect(refused.retryInMs).toBeGreaterThan(1500);
    expect(refused.retryInMs).toBeLessThanOrEqual(2000);
    await new Promise((r) => setTimeout(r, refused.retryInMs + 20));
    expect(await g.admit(req('d'))).toMatchObject({ admitted: true });
  });

  it('counts reserved tokens and gives back the unused ones on settle', async () => {
    const g = make();
    const first = await g.admit(req('a', { tokens: 900 }));
    expect(await g.admit(req('b', { tokens: 200 }))).toMatchObject({ admitted: false, position: 1 });
    if (!first.admitted) throw new Error('unexpected');
    await g.settle('m', first.reservationId, 300);
    expect(await g.admit(req('b', { tokens: 200 }))).toMatchObject({ admitted: true });
    expect((await g.snapshot('m')).tokensInWindow).toBe(500);
  });

  it('settles and names the head of the line (chats first) in the same call, only when asked', async () => {
    const g = make();
    const held = [];
    for (const id of ['a', 'b', 'c']) held.push(await g.admit(req(id)));
    await g.admit(req('batch1', { lane: 'batch' }));
    await g.admit(req('chat1', { owner: 'u2' }));
    if (!held[0]!.admitted) throw new Error('unexpected');
    expect(await g.settle('m', held[0]!.reservationId, 50, 3)).toEqual([
      { lane: 'chat', jobId: 'chat1' },
      { lane: 'batch', jobId: 'batch1' },
    ]);
    expect(await g.settle('m', held[0]!.reservationId, 40)).toEqual([]);
    expect((await g.snapshot('m')).tokensInWindow).toBe(240);
  });

  it('refuses for good a call larger than the whole token quota', async () => {
    expect(await make().admit(req('huge', { tokens: 5000 }))).toEqual({ admitted: false, never: true });
  });

  it('puts a waiting chat ahead of waiting batch jobs', async () => {
    const g = make();
    for (const id of ['x', 'y', 'z']) await g.admit(req(id, { lane: 'batch' }));
    for (const id of ['b1', 'b2']) expect(await g.admit(req(id, { lane: 'batch' }))).toMatchObject({ admitted: false });
    expect(await g.admit(req('c1', { lane: 'chat', owner: 'u2' }))).toMatchObject({ admitted: false, position: 1 });
    expect(await g.admit(req('b1', { lane: 'batch' }))).toMatchObject({ admitted: false, position: 2 });
  });

  it('lets users take turns: a user with many waiting chats does not starve another', async () => {
    const g = make();
    for (const id of ['x', 'y', 'z']) await g.admit(req(id, { owner: 'filler' }));
    for (let i = 1; i <= 5; i++) await g.admit(req(`ana-${i}`, { owner: 'ana' }));
    expect(await g.admit(req('bob-1', { owner: 'bob' }))).toMatchObject({ admitted: false, position: 2 });
    expect(await g.admit(req('ana-2', { owner: 'ana' }))).toMatchObject({ position: 3 });
  });

  it('backs off a model after a throttle and keeps the place of a job that comes back', async () => {
    const g = make();
    const first = await g.admit(req('a'));
    if (!first.admitted) throw new Error('unexpected');
    await g.release('m', first.reservationId);
    await g.backOff('m', 500);
    const blocked = await g.admit(req('a', { keepPlace: first.place }));
    expect(blocked).toMatchObject({ admitted: false, position: 1 });
    if (blocked.admitted || 'never' in blocked) throw new Error('unexpected');
    expect(blocked.retryInMs).toBeGreaterThan(300);
    expect((await g.snapshot('m')).throttled).toBe(1);
  });

  it('drops a job that left the line', async () => {
    const g = make();
    for (const id of ['x', 'y', 'z']) await g.admit(req(id));
    await g.admit(req('gone', { owner: 'u9' }));
    await g.admit(req('next', { owner: 'u8' }));
    await g.leave('m', 'gone');
    expect(await g.admit(req('next', { owner: 'u8' }))).toMatchObject({ position: 1 });
  });
  // The window's reserved tokens are kept as a running sum next to the per-reservation hash.
  const windowSum = async (g: QuotaGovernor) => {
    const k = g.keys('m');
    const [sum, values] = await Promise.all([redis.get(`${k.tokens}:sum`), redis.hvals(k.tokens)]);
    return { sum: sum === null ? null : Number(sum), truth: values.reduce((t, v) => t + Number(v), 0) };
  };

  it('keeps the sum of reserved tokens equal to the reservations through admit, settle, release and expiry', async () => {
    const g = make(300);
    const quota = { requestsPerMinute: 100, tokensPerMinute: 100_000 };
    const a = await g.admit(req('a', { quota, tokens: 700 }));
    const b = await g.admit(req('b', { quota, tokens: 500 }));
    if (!a.admitted || !b.admitted) throw new Error('unexpected');
    expect(await windowSum(g)).toEqual({ sum: 1200, truth: 1200 });
    await g.settle('m', a.reservationId, 250);
    expect(await windowSum(g)).toEqual({ sum: 750, truth: 750 });
    await g.release('m', b.reservationId);
    expect(await windowSum(g)).toEqual({ sum: 250, truth: 250 });
    // Counted again from the reservations at least every 10 s, and when missing (as after an upgrade).
    const ttl = await redis.pttl(`${g.keys('m').tokens}:sum`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(10_000);
    await redis.del(`${g.keys('m').tokens}:sum`);
    await g.admit(req('c', { quota, tokens: 100 }));
    expect(await windowSum(g)).toEqual({ sum: 350, truth: 350 });
    await new Promise((r) => setTimeout(r, 350));
    await g.admit(req('d', { quota, tokens: 40 }));
    expect(await windowSum(g)).toEqual({ sum: 40, truth: 40 });
    expect((await g.snapshot('m')).tokensInWindow).toBe(40);
  });

  it('expires more reservations at once than Lua can unpack, and goes on admitting', async () => {
    const g = make(60_000);
    const k = g.keys('m');
    // A busy minute long gone: 10,000 reservations, dated two minutes ago.
    const longAgo = Date.now() - 120_000;
    const tx = redis.pipeline();
    for (let i = 0; i < 10_000; i++) tx.zadd(k.reservations, longAgo, `old${i}`).hset(k.tokens, `old${i}`, 100);
    await tx.exec();
    const quota = { requestsPerMinute: 100_000, tokensPerMinute: 10_000_000 };
    expect(await g.admit(req('fresh', { quota, tokens: 100 }))).toMatchObject({ admitted: true });
    expect(await redis.zcard(k.reservations)).toBe(1);
    expect(await windowSum(g)).toEqual({ sum: 100, truth: 100 });
  });
  it('tells a call waiting for tokens when enough of the oldest reservations leave the window', async () => {
    const g = make(2000);
    const k = g.keys('m');
    // 150 reservations of 5 tokens, one a millisecond, the oldest a second ago (750 of 1,000 tokens).
    const oldest = Date.now() - 1000;
    const tx = redis.pipeline();
    for (let i = 0; i < 150; i++) tx.zadd(k.reservations, oldest + i, `r${i}`).hset(k.tokens, `r${i}`, 5);
    await tx.exec();
    const quota = { requestsPerMinute: 1000, tokensPerMinute: 1000 };
    // 850 more tokens need 600 freed: the 120 oldest (past the first page of 100) leave 2 s after they came.
    const waiting = await g.admit(req('big', { quota, tokens: 850 }));
    if (waiting.admitted || 'never' in waiting || 'budgetExceeded' in waiting) throw new Error('unexpected');
    const expected = oldest + 119 + 2000 - Date.now();
    expect(waiting.retryInMs).toBeGreaterThanOrEqual(expected - 15);
    expect(waiting.retryInMs).toBeLessThanOrEqual(expected + 15);
  });
});
