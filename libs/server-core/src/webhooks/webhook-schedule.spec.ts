import { loadConfig } from '../config/config.js';
import { webhookRetryDelayMs, webhookScheduleSpanMs } from './webhook-schedule.js';

describe('callback retry schedule', () => {
  const defaults = loadConfig({ REDIS_URL: 'redis://127.0.0.1:6379' }).jobs.webhooks;

  it('by default keeps retrying for about a day (the old schedule gave up after ~17 minutes)', () => {
    const span = webhookScheduleSpanMs(defaults);
    expect(span).toBeGreaterThan(23 * 3600_000);
    expect(span).toBeLessThan(25 * 3600_000);
    // The old default: 10 attempts, 2 s doubling, no cap.
    expect(webhookScheduleSpanMs({ attempts: 10, backoffMs: 2000, backoffMaxMs: Number.MAX_SAFE_INTEGER })).toBe(1022_000);
  });

  it('doubles from WEBHOOK_BACKOFF_MS up to WEBHOOK_BACKOFF_MAX_MS, with ±20 % jitter', () => {
    const mid = (made: number) => webhookRetryDelayMs(made, defaults, () => 0.5);
    expect([1, 2, 3, 4].map(mid)).toEqual([2000, 4000, 8000, 16000]);
    expect(mid(20)).toBe(3600_000);
    expect(webhookRetryDelayMs(3, defaults, () => 0)).toBe(6400);
    expect(webhookRetryDelayMs(3, defaults, () => 0.999999)).toBe(9600);
  });
});
