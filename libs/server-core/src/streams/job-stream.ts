import { pubSubMode, type RedisClient as Redis, redisPublish } from '../redis.js';
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
  /** `at`: when the worker appended it (epoch ms), on a sample of deltas, for the delta-latency metric. */
  | { kind: 'delta'; seq: number; text: string; reasoning?: string; at?: number }
  | { kind: 'done'; seq: number; event: Omit<ChatDoneEvent, 'jobId'> }
  | { kind: 'error'; seq: number; event: Omit<ChatErrorEvent, 'jobId'> };

/** What travels on the job channel: stream entries plus ephemeral status. */
export type JobChannelMessage = StreamEntry | { kind: 'status'; event: Omit<ChatStatusEvent, 'jobId'> };

// XADD + PEXPIRE + PUBLISH as one command: a long answer appends thousands of times, and one
// script call costs Redis and the worker far less than MULTI/EXEC around three commands. On a
// cluster with sharded pub/sub (ARGV[4] = 1) the channel is a shard channel of the stream's slot.
const appendScript = `
redis.call('XADD', KEYS[1], ARGV[1], 'e', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
if ARGV[4] == '1' then redis.call('SPUBLISH', KEYS[2], ARGV[2]) else redis.call('PUBLISH', KEYS[2], ARGV[2]) end
return 1`;

/** Appends one entry to the job's stream and publishes it, atomically and in one round trip. */
export async function appendToJobStream(redis: Redis, jobId: string, entry: StreamEntry): Promise<void> {
  if (!redis.appendJobEntry) redis.defineCommand('appendJobEntry', { numberOfKeys: 2, lua: appendScript });
  const sharded = (await pubSubMode(redis)) === 'sharded' ? '1' : '0';
  await redis.appendJobEntry(jobStreamKey(jobId), jobChannel(jobId), `0-${entry.seq}`, JSON.stringify(entry), jobStreamTtlMs, sharded);
}

export async function publishJobStatus(redis: Redis, jobId: string, event: Omit<ChatStatusEvent, 'jobId'>) {
  await redisPublish(redis, jobChannel(jobId), JSON.stringify({ kind: 'status', event } satisfies JobChannelMessage));
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

declare module 'ioredis' {
  interface RedisCommander<Context> {
    appendJobEntry(...args: (string | number)[]): Promise<unknown>;
  }
}
