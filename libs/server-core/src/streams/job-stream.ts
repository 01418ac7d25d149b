import type { Redis } from 'ioredis';
import type { ChatDoneEvent, ChatErrorEvent, ChatStatusEvent } from '@switchboard/contracts';

/**
 * A job's output lives in a Redis stream `{job:<id>}:deltas` whose entry ids are `0-<seq>`, so a
 * reader resumes with XRANGE by seq. Every append is also published on `{job:<id>}:events` in the
 * same round trip. Both keys share the `{job:<id>}` hash tag, so this works on Redis Cluster.
 */
export const jobStreamKey = (jobId: string) => `{job:${jobId}}:deltas`;
export const jobChannel = (jobId: string) => `{job:${jobId}}:events`;
export const jobChannelPattern = /^\{job:([^}]+)\}:events$/;

/** Streams outlive the answer long enough for a client to reconnect and resume. */
export const jobStreamTtlMs = 60 * 60 * 1000;

export type StreamEntry =
  | { kind: 'delta'; seq: number; text: string }
  | { kind: 'done'; seq: number; event: Omit<ChatDoneEvent, 'jobId'> }
  | { kind: 'error'; seq: number; event: Omit<ChatErrorEvent, 'jobId'> };

/** What travels on the job channel: stream entries plus ephemeral status. */
export type JobChannelMessage = StreamEntry | { kind: 'status'; event: Omit<ChatStatusEvent, 'jobId'> };

/** Appends one entry to the job's stream and publishes it, in one round trip (MULTI). */
export async function appendToJobStream(redis: Redis, jobId: string, entry: StreamEntry): Promise<void> {
  const key = jobStreamKey(jobId);
  const payload = JSON.stringify(entry);
  await redis
    .multi()
    .xadd(key, `0-${entry.seq}`, 'e', payload)
    .pexpire(key, jobStreamTtlMs)
    .publish(jobChannel(jobId), payload)
    .exec()
    .then(throwOnTransactionError);
}

export async function publishJobStatus(redis: Redis, jobId: string, event: Omit<ChatStatusEvent, 'jobId'>) {
  await redis.publish(jobChannel(jobId), JSON.stringify({ kind: 'status', event } satisfies JobChannelMessage));
}

/** Entries with seq > afterSeq, in order. */
export async function readJobStream(redis: Redis, jobId: string, afterSeq: number): Promise<StreamEntry[]> {
  const rows = await redis.xrange(jobStreamKey(jobId), `(0-${afterSeq}`, '+');
  return rows.map(([, fields]) => JSON.parse(fields[1]!) as StreamEntry);
}

/** Highest seq written so far (0 when the stream is empty or gone). */
export async function lastJobStreamSeq(redis: Redis, jobId: string): Promise<number> {
  const rows = await redis.xrevrange(jobStreamKey(jobId), '+', '-', 'COUNT', 1);
  const id = rows[0]?.[0];
  return id ? Number(id.split('-')[1]) : 0;
}

function throwOnTransactionError(results: [Error | null, unknown][] | null) {
  if (!results) throw new Error('Redis transaction aborted');
  for (const [err] of results) if (err) throw err;
}
