import type { RedisClient as Redis } from '../redis.js';
import type { OpsApiNode, OpsMinute, OpsWorker } from '@switchboard/contracts';

/**
 * What the Operations page and the ops CLI read, all in Redis under the deployment's hash tag (one
 * slot: works on Redis Cluster):
 *
 * - `<prefix>:ops:workers` / `…:api-nodes` (zset id → expiry) and `…:worker:<id>` / `…:api:<id>`
 *   (JSON, PX = the heartbeat period): a process that stops refreshing disappears within one period.
 * - `<prefix>:ops:drain:<id>`: the ops CLI asked that worker to drain (also announced on the control channel).
 * - `<prefix>:ops:minute:<model>:<minute>` (hash, 2 h): requests, tokens, throttles and deferrals of
 *   one model in one minute, written by the quota governor — the last hour's chart.
 * - `<prefix>:ops:ttft:<model>` (zset `<jobId>:<ms>` → time): chats' time to first token, 5 minutes kept.
 */
export const opsKeys = (prefix: string) => ({
  workers: `${prefix}:ops:workers`,
  worker: (id: string) => `${prefix}:ops:worker:${id}`,
  apiNodes: `${prefix}:ops:api-nodes`,
  apiNode: (id: string) => `${prefix}:ops:api:${id}`,
  drain: (id: string) => `${prefix}:ops:drain:${id}`,
  minute: (modelId: string, minute: number) => `${prefix}:ops:minute:${modelId}:${minute}`,
  ttft: (modelId: string) => `${prefix}:ops:ttft:${modelId}`,
});

export const minuteMs = 60_000;
const minuteTtlMs = 2 * 60 * 60 * 1000;
export const ttftSpanMs = 5 * 60 * 1000;

export type MinuteField = 'requests' | 'tokens' | 'throttles' | 'deferrals';

/** How often a process writes what it counted (OpsRecorder): the Operations page lags by at most this. */
export const opsFlushMs = 1000;

/**
 * Per-minute counters and TTFT samples gathered in the process and written once every
 * `opsFlushMs` as one pipeline, instead of a MULTI per call: at hundreds of calls a second those
 * were a quarter of a worker's Redis commands (issue 19). A process writes its deployment's keys
 * only (one hash tag, one Cluster slot), so one pipeline holds on a cluster too. Best effort: a
 * process that dies loses at most its last second of counts; a failed write is dropped, not thrown.
 */
export class OpsRecorder {
  /** minute key → field → amount */
  private readonly minutes = new Map<string, Map<MinuteField, number>>();
  /** ttft key → [score, member, …] */
  private readonly ttfts = new Map<string, (string | number)[]>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly redis: Redis) {}

  /** Adds to this minute's counters of a model. */
  count(prefix: string, modelId: string, field: MinuteField, by = 1): void {
    if (by <= 0) return;
    const fields = entryOf(this.minutes, opsKeys(prefix).minute(modelId, Math.floor(Date.now() / minuteMs)), () => new Map());
    fields.set(field, (fields.get(field) ?? 0) + Math.round(by));
    this.schedule();
  }

  /** One chat's time to first token. */
  ttft(prefix: string, modelId: string, jobId: string, ms: number): void {
    entryOf(this.ttfts, opsKeys(prefix).ttft(modelId), () => []).push(Date.now(), `${jobId}:${Math.max(0, Math.round(ms))}`);
    this.schedule();
  }

  /** Writes what was gathered; shutdown calls it so the last second is kept. */
  async flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.minutes.size === 0 && this.ttfts.size === 0) return;
    const now = Date.now();
    const pipeline = this.redis.pipeline();
    for (const [key, fields] of this.minutes) {
      for (const [field, by] of fields) pipeline.hincrby(key, field, by);
      pipeline.pexpire(key, minuteTtlMs);
    }
    for (const [key, samples] of this.ttfts) {
      pipeline.zadd(key, ...samples).zremrangebyscore(key, '-inf', now - ttftSpanMs).pexpire(key, ttftSpanMs);
    }
    this.minutes.clear();
    this.ttfts.clear();
    await pipeline.exec().catch(() => undefined);
  }

  private schedule() {
    this.timer ??= setTimeout(() => void this.flush(), opsFlushMs).unref();
  }
}

function entryOf<K, V>(map: { get(key: K): V | undefined; set(key: K, value: V): unknown }, key: K, create: () => V): V {
  let value = map.get(key);
  if (value === undefined) map.set(key, (value = create()));
  return value;
}

const recorders = new WeakMap<Redis, OpsRecorder>();
/** The connection's one recorder (see OpsRecorder): every caller in a process shares its writes. */
export const opsRecorder = (redis: Redis): OpsRecorder => entryOf(recorders, redis, () => new OpsRecorder(redis));

/** The last `count` minutes of a model, oldest first. */
export async function readMinutes(redis: Redis, prefix: string, modelId: string, count = 60, now = Date.now()): Promise<OpsMinute[]> {
  const current = Math.floor(now / minuteMs);
  const minutes = Array.from({ length: count }, (_, i) => current - count + 1 + i);
  const pipeline = redis.pipeline();
  for (const m of minutes) pipeline.hgetall(opsKeys(prefix).minute(modelId, m));
  const rows = ((await pipeline.exec()) ?? []).map(([, v]) => (v ?? {}) as Record<string, string>);
  return minutes.map((m, i) => ({
    minute: m * minuteMs,
    requests: Number(rows[i]?.requests ?? 0),
    tokens: Number(rows[i]?.tokens ?? 0),
    throttles: Number(rows[i]?.throttles ?? 0),
    deferrals: Number(rows[i]?.deferrals ?? 0),
  }));
}

/** p50/p95 of the last 5 minutes' time to first token of a model (null: none). */
export async function readTtft(redis: Redis, prefix: string, modelId: string, now = Date.now()) {
  const members = await redis.zrangebyscore(opsKeys(prefix).ttft(modelId), now - ttftSpanMs, '+inf');
  if (members.length === 0) return null;
  const values = members.map((m) => Number(m.slice(m.lastIndexOf(':') + 1))).sort((a, b) => a - b);
  const at = (q: number) => values[Math.min(values.length - 1, Math.ceil(q * values.length) - 1)]!;
  return { p50Ms: at(0.5), p95Ms: at(0.95), samples: values.length };
}

type Beat = { kind: 'worker'; info: OpsWorker } | { kind: 'api'; info: OpsApiNode };

/** Refreshes a process's heartbeat: its record lives one period, so a dead process is gone after at most that. */
export async function writeHeartbeat(redis: Redis, prefix: string, beat: Beat, periodMs: number): Promise<void> {
  const k = opsKeys(prefix);
  const [set, key] = beat.kind === 'worker' ? [k.workers, k.worker(beat.info.id)] : [k.apiNodes, k.apiNode(beat.info.id)];
  const now = Date.now();
  await redis
    .multi()
    .set(key, JSON.stringify(beat.info), 'PX', periodMs)
    .zadd(set, now + periodMs, beat.info.id)
    .zremrangebyscore(set, '-inf', now)
    // The index goes too when every process of the deployment is gone (test prefixes, old deployments).
    .pexpire(set, periodMs * 2)
    .exec();
}

/** Removes a process's heartbeat at once (clean shutdown). */
export async function clearHeartbeat(redis: Redis, prefix: string, kind: 'worker' | 'api', id: string): Promise<void> {
  const k = opsKeys(prefix);
  await redis
    .multi()
    .del(kind === 'worker' ? k.worker(id) : k.apiNode(id))
    .zrem(kind === 'worker' ? k.workers : k.apiNodes, id)
    .exec();
}

async function readBeats<T>(redis: Redis, set: string, keyOf: (id: string) => string): Promise<T[]> {
  const ids = await redis.zrangebyscore(set, Date.now(), '+inf');
  if (ids.length === 0) return [];
  const values = await redis.mget(...ids.map(keyOf));
  return values.filter((v): v is string => v !== null).map((v) => JSON.parse(v) as T);
}

export const readWorkers = (redis: Redis, prefix: string) => readBeats<OpsWorker>(redis, opsKeys(prefix).workers, opsKeys(prefix).worker);
export const readApiNodes = (redis: Redis, prefix: string) => readBeats<OpsApiNode>(redis, opsKeys(prefix).apiNodes, opsKeys(prefix).apiNode);
