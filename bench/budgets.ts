/**
 * Issue 15 benchmark: what budgets and shares add to the governor's admission step (one Lua script
 * on Redis). The same admissions run without a spend spec (quota only) and with one (the caller's
 * user and 3 groups, 3 budgets that apply, 2 shares of the model), interleaved in rounds so drift
 * hits both alike. Each admitted call is released again (not timed), so the window stays small.
 *
 *   npm run bench:budgets        (CALLS=5000 ROUNDS=5 by default; REDIS_URL as everywhere)
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { type AdmissionRequest, mirrorBudgets, mirrorShares, QuotaGovernor } from '@switchboard/server-core';
import { pct } from './percentile.js';

const calls = Number(process.env.CALLS ?? 5000);
const rounds = Number(process.env.ROUNDS ?? 5);
const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
const prefix = `{bench-${randomBytes(4).toString('hex')}}`;
const now = new Date();
const row = { createdAt: now, updatedAt: now };

async function main() {
  await mirrorBudgets(redis, prefix, [
    { id: 'b-user', scope: 'user', subject: 'ana', period: 'day', limitUsd: 1e5, limitTokens: null, mode: 'block', ...row },
    { id: 'b-team', scope: 'group', subject: 'team', period: 'month', limitUsd: 1e5, limitTokens: 1e12, mode: 'block', ...row },
    { id: 'b-org', scope: 'group', subject: 'org', period: 'month', limitUsd: 1e5, limitTokens: null, mode: 'warn', ...row },
  ]);
  await mirrorShares(redis, prefix, [
    { id: 's-team', scope: 'group', subject: 'team', modelId: 'bench', minPercent: 20, maxPercent: 90, ...row },
    { id: 's-night', scope: 'client', subject: 'nightly', modelId: null, minPercent: null, maxPercent: 30, ...row },
  ]);
  const governor = new QuotaGovernor(redis, { prefix, windowMs: 60_000, safetyMarginMs: 0 });
  const base = (i: number): AdmissionRequest => ({
    modelId: 'bench',
    quota: { requestsPerMinute: 1_000_000, tokensPerMinute: 1_000_000_000 },
    jobId: `job-${i}`,
    owner: 'ana',
    lane: 'chat',
    tokens: 1200,
  });
  const spend = { subjects: ['user:ana', 'group:team', 'group:org', 'group:all'], worstCostUsd: 0.02, worstTokens: 1200 };
  const timings = { quota: [] as number[], budgets: [] as number[] };
  const once = async (kind: 'quota' | 'budgets', i: number) => {
    const req = kind === 'budgets' ? { ...base(i), spend } : base(i);
    const start = process.hrtime.bigint();
    const admission = await governor.admit(req);
    timings[kind].push(Number(process.hrtime.bigint() - start) / 1e6);
    if (!admission.admitted) throw new Error(`not admitted: ${JSON.stringify(admission)}`);
    await governor.release('bench', admission.reservationId);
  };
  for (let i = 0; i < 500; i++) await once(i % 2 ? 'quota' : 'budgets', i); // warm-up
  timings.quota.length = 0;
  timings.budgets.length = 0;
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < calls / rounds; i++) {
      await once('quota', r * calls + i);
      await once('budgets', r * calls + i);
    }
  }
  const line = (name: string, v: number[]) =>
    `${name.padEnd(30)} p50 ${pct(v, 50).toFixed(3)} ms   p90 ${pct(v, 90).toFixed(3)} ms   p99 ${pct(v, 99).toFixed(3)} ms   (n=${v.length})`;
  console.log(`admission step, one client, Redis ${redis.options.host}:${redis.options.port}`);
  console.log(line('quota only', timings.quota));
  console.log(line('quota + 3 budgets + 2 shares', timings.budgets));
  console.log(`added p99: ${(pct(timings.budgets, 99) - pct(timings.quota, 99)).toFixed(3)} ms (target <= 1 ms)`);
}

main()
  .catch((err) => {
    console.error(err);
    process.exitCode = 1;
  })
  .finally(async () => {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length) await redis.del(...keys);
    } while (cursor !== '0');
    redis.disconnect();
  });
