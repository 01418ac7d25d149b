import type { AppConfig } from '@switchboard/server-core';

/**
 * BullMQ lock and stalled-check periods of every worker in this process. A dead worker's job runs
 * elsewhere once its lock lapsed and a stalled check saw it twice: within about
 * lock + stalled interval after its last renewal, at worst (4 + 2.5 s by default; BullMQ's
 * defaults take up to 30 + 60 s). Checks are one Lua call per queue per interval, whichever worker
 * runs them; a shorter lock would let a busy event loop lose locks of healthy jobs.
 */
export function jobLockOptions(config: AppConfig) {
  return {
    lockDuration: config.worker.lockDurationMs,
    lockRenewTime: config.worker.lockRenewMs,
    stalledInterval: config.worker.stalledIntervalMs,
  };
}
