import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Worker } from 'bullmq';
import type { RedisClient as Redis } from '@switchboard/server-core';
import { clearHeartbeat, controlChannel, type ControlMessage, type Logger, onRedisMessage, opsKeys, redisSubscribe, writeHeartbeat } from '@switchboard/server-core';
import { workerMetrics } from '../metrics/worker-metrics.js';

export type WorkerPresence = { readonly id: string; readonly draining: boolean; drain(why: string): Promise<void>; stop(): Promise<void> };

/**
 * Tells Operations and the ops CLI this worker is alive: a heartbeat record in Redis that lives one
 * period (`OPS_HEARTBEAT_MS`) and is refreshed three times per period, so a worker that dies is gone
 * within its period. Listens for `drain` (control channel, or the drain key checked at each beat):
 * the worker then takes no new job and finishes the ones it runs; its heartbeat says `draining`.
 */
export async function startPresence(opts: {
  redis: Redis;
  subscriber: Redis;
  prefix: string;
  heartbeatMs: number;
  slots: number;
  workers: Worker[];
  inFlight: () => number;
  logger: Logger;
}): Promise<WorkerPresence> {
  const id = `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  const since = Date.now();
  let draining = false;
  let stopped = false;
  const metrics = workerMetrics();

  const beat = async () => {
    if (stopped) return;
    const inUse = opts.inFlight();
    metrics.slotsInUse.set(inUse);
    const now = Date.now();
    await writeHeartbeat(
      opts.redis,
      opts.prefix,
      {
        kind: 'worker',
        info: { id, host: hostname(), pid: process.pid, slots: opts.slots, slotsInUse: inUse, streams: metrics.liveStreams, since, lastHeartbeat: now, draining },
      },
      opts.heartbeatMs,
    );
    if (!draining && (await opts.redis.exists(opsKeys(opts.prefix).drain(id)))) await drain('drain key');
  };

  const drain = async (why: string) => {
    if (draining) return;
    draining = true;
    opts.logger.warn({ workerId: id, why, inFlight: opts.inFlight() }, 'draining: taking no new jobs, finishing the running ones');
    void beat().catch(() => undefined);
    // pause() waits for the running jobs; the worker stays up (and visible) until it is stopped.
    await Promise.all(opts.workers.map((w) => w.pause())).catch((err) => opts.logger.warn({ err }, 'drain: pausing a worker failed'));
    opts.logger.info({ workerId: id }, 'drained: no job running');
  };

  const channel = controlChannel(opts.prefix);
  const onMessage = (ch: string, payload: string) => {
    if (ch !== channel) return;
    let message: ControlMessage;
    try {
      message = JSON.parse(payload) as ControlMessage;
    } catch {
      return;
    }
    if (message.type === 'drain' && message.workerId === id) void drain('control channel');
  };
  onRedisMessage(opts.subscriber, onMessage);
  await redisSubscribe(opts.subscriber, channel);

  await beat();
  const timer = setInterval(() => void beat().catch((err) => opts.logger.warn({ err }, 'heartbeat failed')), Math.max(100, Math.floor(opts.heartbeatMs / 3)));
  timer.unref();
  opts.logger.info({ workerId: id }, 'worker heartbeat started');

  return {
    id,
    get draining() {
      return draining;
    },
    drain,
    stop: async () => {
      stopped = true;
      clearInterval(timer);
      opts.subscriber.off('message', onMessage);
      await clearHeartbeat(opts.redis, opts.prefix, 'worker', id).catch(() => undefined);
    },
  };
}
