import type { AppConfig } from '@switchboard/server-core';

/**
 * BullMQ lock and stalled-check periods of every worker in this process. A dead worker's job runs
 * elsewhere once its lock lapsed and a stalled check saw it twice: within about
 * lockDuration + 2 × stalledInterval (4 + 6 s at most by default, against BullMQ's 30 + 60 s).
 * A stalled check every 2 s cost the quota governor's utilization under load (the quota
 * integration test fell to 78–87 % of the window); every 3 s it holds 95 %.
 */
export function jobLockOptions(config: AppConfig) {
  return {
    lockDuration: config.worker.lockDurationMs,
    lockRenewTime: config.worker.lockRenewMs,
    stalledInterval: config.worker.stalledIntervalMs,
  };
}
