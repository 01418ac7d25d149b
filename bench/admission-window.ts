/**
 * Issue 19 benchmark: what one admission costs Redis as the model's window fills. A model with a
 * quota of thousands of requests a minute holds as many reservations in its window; admission
 * must not grow with them. For each window size the window is first filled through admissions
 * (quota only, and with a share the calls count against), then ADMITS more admissions are timed:
 * Redis's own time per admission script (INFO commandstats) and the round trip seen by the caller.
 *
 *   npm run bench:admission      (WINDOWS=0,1000,5000,10000 ADMITS=500 by default; REDIS_URL as everywhere)
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { type AdmissionRequest, mirrorShares, QuotaGovernor } from '@switchboard/server-core';
import { pct } from './percentile.js';

const windows = (process.env.WINDOWS ?? '0,1000,5000,10000').split(',').map(Number);
const admits = Number(process.env.ADMITS ?? 500);
const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
const now = new Date();

async function measure(size: number, withShare: boolean) {
  const prefix = `{bench-${randomBytes(4).toString('hex')}}`;
  if (withShare) {
    await mirrorShares(redis, prefix, [
      { id: 's-team', scope: 'group', subject: 'team', modelId: 'bench', minPercent: null, maxPercent: 90, createdAt: now, updatedAt: now },
    ]);
  }
  const governor = new QuotaGovernor(redis, { prefix, windowMs: 600_000, safetyMarginMs: 0 });
  const request = (jobId: string): AdmissionRequest => ({
    modelId: 'bench',
    quota: { requestsPerMinute: 10_000_000, tokensPerMinute: 10_000_000_000 },
    jobId,
    owner: `u${jobId.length}`,
    lane: 'chat',
    tokens: 1200,
    ...(withShare ? { spend: { subjects: ['user:ana', 'group:team'], worstCostUsd: 0.01, worstTokens: 1200 } } : {}),
  });
  for (let i = 0; i < size; i += 250) {
    await Promise.all(Array.from({ length: Math.min(250, size - i) }, (_, j) => governor.admit(request(`fill-${i + j}`))));
  }
  await redis.config('RESETSTAT');
  const roundTrips: number[] = [];
  for (let i = 0; i < admits; i++) {
    const started = performance.now();
    const admission = await governor.admit(request(`timed-${i}`));
    roundTrips.push(performance.now() - started);
    if (!admission.admitted) throw new Error('the bench quota should admit every call');
  }
  const stats = /cmdstat_evalsha:calls=(\d+),usec=(\d+)/.exec(await redis.info('commandstats'));
  const redisUs = stats ? Number(stats[2]) / Number(stats[1]) : NaN;
  const keys = await redis.keys(`${prefix}*`);
  for (let i = 0; i < keys.length; i += 500) await redis.del(...keys.slice(i, i + 500));
  return { redisUs, p50: pct(roundTrips, 50), p99: pct(roundTrips, 99) };
}

async function main() {
  console.log(`${admits} admissions timed after filling the window; Redis time per admission script, and the caller's round trip`);
  console.log('reservations in window   quota only: Redis / p50 / p99          with a share: Redis / p50 / p99');
  for (const size of windows) {
    const plain = await measure(size, false);
    const shared = await measure(size, true);
    const show = (m: typeof plain) => `${m.redisUs.toFixed(1).padStart(7)} µs ${m.p50.toFixed(3)} ms ${m.p99.toFixed(3)} ms`;
    console.log(`${String(size).padStart(8)} → ${String(size + admits).padEnd(8)}     ${show(plain)}      ${show(shared)}`);
  }
}

main()
  .catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  })
  .finally(() => redis.disconnect());
