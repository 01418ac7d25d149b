import { isCluster, pubSubMode, type RedisClient as Redis, redisPublish } from '../redis.js';
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

/**
 * Timing stamps a delta entry may carry for `bench:chat` (wall-clock ms with a fraction, same
 * clock in every process of a machine). Never sent to clients: the relay picks the event's fields.
 * `tm`: [first text of the batch came from Bedrock, the batch was handed to Redis].
 * `hop` (first entry of an attempt): [enqueued (BullMQ's timestamp), picked up, request sent to Bedrock].
 */
export type StreamStamps = { tm?: [number, number]; hop?: [number, number, number] };

/** Wall-clock now in ms with a fraction (performance.now on the process's time origin). */
export const stampNow = () => Math.round((performance.timeOrigin + performance.now()) * 100) / 100;

export type StreamEntry =
  /** `at`: when the worker appended it (epoch ms), on a sample of deltas, for the delta-latency metric. */
  | ({ kind: 'delta'; seq: number; text: string; reasoning?: string; at?: number } & StreamStamps)
  | { kind: 'done'; seq: number; event: Omit<ChatDoneEvent, 'jobId'> }
  | { kind: 'error'; seq: number; event: Omit<ChatErrorEvent, 'jobId'> };

/** What travels on the job channel: stream entries plus ephemeral status. */
export type JobChannelMessage = StreamEntry | { kind: 'status'; event: Omit<ChatStatusEvent, 'jobId'> };

// XADD + PUBLISH per entry, many entries (of many jobs) in one script call: a long answer appends
// thousands of times, and one script call costs Redis and the worker far less than MULTI/EXEC
// around the commands, or a call per entry (bench:chat, issue 19). The TTL is set when the stream
// starts (a checked append reaches an empty stream only as seq 1) and renewed every 32nd seq and
// on every unchecked append (an ending, a write after lost entries): a PEXPIRE per delta
// cost Redis a command each for nothing.
// KEYS: each entry's stream and channel. ARGV: the streams' TTL, '1' to SPUBLISH (see pubSubMode),
// then each entry's id, payload and `after`: when not '', the seq the stream must end at. A stream
// that ends lower lost entries (a primary that failed before its replica had them) and answers
// 'behind:<its last seq>' unwritten. A stream that ends at this very entry already has it (ioredis
// sent the call again after the connection closed before its reply, e.g. a primary killed
// mid-failover): done, nothing repeated. Any other entry at or past this seq was written by another
// attempt: 'taken:<its last seq>'. An entry Redis refuses answers 'error:<why>' and fails only itself.
const appendScript = `
-- Where the stream ends against 'after': 'behind:<last>' (entries lost), 1 (this very entry is the
-- last: a resend), 'taken:<last>' (another attempt is ahead), or nil (it ends at 'after').
local function checkTop(key, id, entry, after)
  local top = redis.call('XREVRANGE', key, '+', '-', 'COUNT', 1)
  local last = 0
  if top[1] then last = tonumber(string.match(top[1][1], '%-(%d+)$')) end
  if last < after then return 'behind:' .. last end
  if last > after then
    if top[1][1] == id and top[1][2][2] == entry then return 1 end
    return 'taken:' .. last
  end
end
local function append(key, channel, id, entry, after)
  local renew = after == '' or tonumber(string.match(id, '%-(%d+)$')) % 32 == 1
  -- Seqs are distinct and from 1, so the last is at least the length, and a stream without a
  -- gap (nearly every one) ends at its length: O(1), no entry read. Any other length reads the
  -- top. A length of 'after' over a gap (entries lost, then written on) can hide a later top:
  -- XADD refuses an id at or below it, and the top is read then.
  local topUnread = false
  if after ~= '' then
    after = tonumber(after)
    if redis.call('XLEN', key) == after then
      topUnread = true
    else
      local verdict = checkTop(key, id, entry, after)
      if verdict then return verdict end
    end
  end
  local added = redis.pcall('XADD', key, id, 'e', entry)
  if type(added) == 'table' and added.err then
    if topUnread then
      local verdict = checkTop(key, id, entry, after)
      if verdict then return verdict end
    end
    return 'error:' .. added.err
  end
  if renew then redis.call('PEXPIRE', key, ARGV[1]) end
  if ARGV[2] == '1' then redis.call('SPUBLISH', channel, entry) else redis.call('PUBLISH', channel, entry) end
  return 1
end
local results = {}
for i = 1, #KEYS / 2 do
  results[i] = append(KEYS[2 * i - 1], KEYS[2 * i], ARGV[3 * i], ARGV[3 * i + 1], ARGV[3 * i + 2])
end
return results`;

/** What one entry's append answered (see appendScript): nothing when it is in the stream, else why not. */
const appendFailure = (result: unknown): Error | undefined => {
  if (typeof result !== 'string') return undefined;
  if (result.startsWith('behind:')) return new StreamBehindError(Number(result.slice(7)));
  if (result.startsWith('taken:')) return new StreamTakenError(Number(result.slice(6)));
  return new Error(result.startsWith('error:') ? result.slice(6) : result);
};

type Append = { jobId: string; id: string; payload: string; after: string };

/** Appends entries (of any jobs) in one script call; one result per entry, in order. */
async function appendEntries(redis: Redis, appends: Append[]): Promise<unknown[]> {
  if (!redis.appendJobEntries) redis.defineCommand('appendJobEntries', { lua: appendScript });
  // On a cluster of Redis >= 7 the channel is a shard channel (SPUBLISH), see pubSubMode.
  const sharded = (await pubSubMode(redis)) === 'sharded' ? '1' : '0';
  const keys: string[] = [];
  const args: (string | number)[] = [jobStreamTtlMs, sharded];
  for (const a of appends) {
    keys.push(jobStreamKey(a.jobId), jobChannel(a.jobId));
    args.push(a.id, a.payload, a.after);
  }
  return (await redis.appendJobEntries(keys.length, ...keys, ...args)) as unknown[];
}

/** Appends one entry to the job's stream and publishes it, atomically and in one round trip. */
export async function appendToJobStream(redis: Redis, jobId: string, entry: StreamEntry): Promise<void> {
  const [result] = await appendEntries(redis, [{ jobId, id: `0-${entry.seq}`, payload: JSON.stringify(entry), after: '' }]);
  const failure = appendFailure(result);
  if (failure) throw failure;
}

/** The stream ends before the entry it was asked to follow: entries were lost (see appendScript). */
export class StreamBehindError extends Error {
  constructor(readonly lastSeq: number) {
    super(`the job stream ends at seq ${lastSeq}: entries were lost`);
  }
}

/** Another attempt of the job already wrote the entry's seq (see appendScript): this one must not go on writing. */
export class StreamTakenError extends Error {
  constructor(readonly lastSeq: number) {
    super(`the job stream is at seq ${lastSeq} already: another attempt is writing this answer`);
  }
}

type Queued = Append & { resolve: () => void; reject: (err: unknown) => void };

/** Most entries one script call carries: it holds Redis for some 10 µs an entry. */
const maxEntriesPerCall = 256;

/**
 * Many answers' appends on one connection (a worker's `streams`): what is appended during one turn
 * of the event loop goes out as one script call (appendScript), which never waits for the one
 * before it. ioredis's auto-pipelining keeps one pipeline in flight per connection, so under load
 * every append also waited for the previous batch's round trip; one write per append instead cost
 * a syscall each, and a pipeline of one call per entry cost the worker and Redis a command each.
 *
 * `lingerMs` > 0: an append that is not urgent waits up to that long for others to share its
 * write (200 answers at 20 tokens/s rarely append in the same turn; each lone append costs the
 * worker a syscall and a reply read, and the API a message of its own). An answer's first entry
 * is urgent: it goes out in the next turn, so the time to first token does not wait.
 */
export class JobStreamAppender {
  private queued: Queued[] = [];
  private lingering: NodeJS.Timeout | undefined;
  private flushingSoon = false;
  lingerMs = 0;

  constructor(private readonly redis: Redis) {}

  /** `after`: the seq the stream must end at, else StreamBehindError and nothing written. */
  append(jobId: string, entry: StreamEntry, after?: number, urgent = false): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queued.push({ jobId, id: `0-${entry.seq}`, payload: JSON.stringify(entry), after: after === undefined ? '' : String(after), resolve, reject });
      this.schedule(urgent);
    });
  }

  private schedule(urgent: boolean) {
    if (this.flushingSoon) return;
    if (urgent || this.lingerMs <= 0) {
      clearTimeout(this.lingering);
      this.lingering = undefined;
      this.flushingSoon = true;
      setImmediate(() => this.flush());
    } else {
      this.lingering ??= setTimeout(() => this.flush(), this.lingerMs);
    }
  }

  private flush() {
    clearTimeout(this.lingering);
    this.lingering = undefined;
    this.flushingSoon = false;
    const batch = this.queued;
    this.queued = [];
    if (batch.length === 0) return;
    // A cluster's script call must stay in one slot, and every job's stream has its own: one call each.
    const size = isCluster(this.redis) ? 1 : maxEntriesPerCall;
    for (let i = 0; i < batch.length; i += size) {
      const calls = batch.slice(i, i + size);
      appendEntries(this.redis, calls).then(
        (results) =>
          calls.forEach((q, j) => {
            const failure = appendFailure(results[j]);
            if (failure) q.reject(failure);
            else q.resolve();
          }),
        (err: unknown) => calls.forEach((q) => q.reject(err)),
      );
    }
  }
}

const appenders = new WeakMap<Redis, JobStreamAppender>();
/** The connection's one appender (see JobStreamAppender); `lingerMs`, when given, becomes its linger. */
export function jobStreamAppender(redis: Redis, lingerMs?: number): JobStreamAppender {
  let appender = appenders.get(redis);
  if (!appender) appenders.set(redis, (appender = new JobStreamAppender(redis)));
  if (lingerMs !== undefined) appender.lingerMs = lingerMs;
  return appender;
}

export async function publishJobStatus(redis: Redis, jobId: string, event: Omit<ChatStatusEvent, 'jobId'>) {
  await redisPublish(redis, jobChannel(jobId), JSON.stringify({ kind: 'status', event } satisfies JobChannelMessage));
}

/** Entries with seq > afterSeq, in order. */
export async function readJobStream(redis: Redis, jobId: string, afterSeq: number): Promise<StreamEntry[]> {
  const rows = await redis.xrange(jobStreamKey(jobId), `(0-${afterSeq}`, '+');
  return rows.map(([, fields]) => JSON.parse(fields[1]!) as StreamEntry);
}

/** The last entry written (undefined when the stream is empty or gone). */
export async function lastJobStreamEntry(redis: Redis, jobId: string): Promise<StreamEntry | undefined> {
  const rows = await redis.xrevrange(jobStreamKey(jobId), '+', '-', 'COUNT', 1);
  const fields = rows[0]?.[1];
  return fields ? (JSON.parse(fields[1]!) as StreamEntry) : undefined;
}

/** Highest seq written so far (0 when the stream is empty or gone). */
export async function lastJobStreamSeq(redis: Redis, jobId: string): Promise<number> {
  return (await lastJobStreamEntry(redis, jobId))?.seq ?? 0;
}

declare module 'ioredis' {
  interface RedisCommander<Context> {
    appendJobEntries(...args: (string | number)[]): Promise<unknown>;
  }
}
