import type { AppConfig } from '../config/config.js';

/** The BullMQ backoff type of callbacks; workers resolve it with `webhookRetryDelayMs`. */
export const webhookBackoffType = 'webhook-schedule';

/**
 * Delay before attempt `attemptsMade + 1` of a callback: WEBHOOK_BACKOFF_MS doubled per attempt,
 * capped at WEBHOOK_BACKOFF_MAX_MS, with ±20 % jitter so receivers coming back from an outage are
 * not hit by every sender at once.
 */
export function webhookRetryDelayMs(attemptsMade: number, opts: { backoffMs: number; backoffMaxMs: number }, random: () => number = Math.random): number {
  const exponential = Math.min(opts.backoffMaxMs, opts.backoffMs * 2 ** Math.max(0, attemptsMade - 1));
  return Math.round(exponential * (0.8 + 0.4 * random()));
}

/** Time from the first attempt to the last one without jitter (the documented schedule). */
export function webhookScheduleSpanMs(opts: { attempts: number; backoffMs: number; backoffMaxMs: number }): number {
  let total = 0;
  for (let made = 1; made < opts.attempts; made++) total += webhookRetryDelayMs(made, opts, () => 0.5);
  return total;
}

/** BullMQ options of a callback delivery, whoever queues it. */
export function webhookJobOptions(config: Pick<AppConfig, 'jobs'>, jobId: string) {
  return {
    jobId,
    attempts: config.jobs.webhooks.attempts,
    backoff: { type: webhookBackoffType },
    removeOnComplete: { age: 3600 },
    removeOnFail: { age: 7 * 24 * 3600 },
  };
}
