import type { AppConfig } from '@switchboard/server-core';

/**
 * BullMQ lock and stalled-check periods of every worker in this process. A dead worker's job runs
 * elsewhere once its lock lapsed and a stalled check saw it twice: within about
 * lockDuration + 2 × stalledInterval (5 + 4 s by default, against BullMQ's 30 + 60 s).
 */
export function jobLockOptions(config: AppConfig) {
  return {
    lockDuration: config.worker.lockDurationMs,
    lockRenewTime: config.worker.lockRenewMs,
    stalledInterval: config.worker.stalledIntervalMs,
  };
}
