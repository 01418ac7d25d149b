import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import type { RedisClient as Redis } from '@switchboard/server-core';
import DataLoader from 'dataloader';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { AppConfig } from '@switchboard/server-core';
import { isDependencyOutage } from '../common/dependency-outage.js';
import { APP_CONFIG } from '../config/tokens.js';
import { whenRedisUp } from '../common/redis-guard.js';
import { REDIS } from '../redis/redis.module.js';
import { LimitsRepository } from './limits.repository.js';
import { RateLimitedError } from './rate-limited.error.js';

/** How long a socket's entry lives without a refresh (a node that died leaves none for longer). */
const socketTtlMs = 120_000;
const socketRefreshMs = 30_000;
/** Longest a send counts as starting (between its limit check and its insert) should its node die meanwhile. */
const startingTtlMs = 30_000;
/** How long a user's stored-bytes figure is trusted before Postgres is asked again. */
const storedBytesFreshSeconds = 60;
/**
 * How long a figure that is no longer fresh is still kept: a send it lets through does not wait for
 * Postgres (the figure is read again behind it); one it would refuse waits for a fresh figure.
 */
const storedBytesKeptSeconds = 3600;
/** Figures read off the request path (socket connects, refreshes): one statement per batch, at most this many users waiting. */
const backgroundReadsMax = 2000;
const backgroundBatchMs = 20;

/**
 * How long the count of bytes "added meanwhile" (KEYS[3] below) outlives a read. A read of the
 * figure cannot see writes that commit after its snapshot, so bytes counted while a read may be
 * under way are kept there too and put back on top of the figure it answers (finishReadScript).
 * A request that may miss a read's snapshot counts twice when it did not (the safe side); none is lost.
 */
const addedMeanwhileSeconds = 60;

/**
 * INCRBY on a cached figure (KEYS[1]) only: nil when Postgres must be asked (and a read begins),
 * else the new total and whether the figure is fresh (KEYS[2] exists). A figure that is not fresh
 * is about to be read again: the bytes go to KEYS[3] too, as they do while a read is under way.
 */
const addIfCachedScript = `
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('SET', KEYS[3], 0, 'EX', ${addedMeanwhileSeconds}, 'NX')
  return nil
end
local fresh = redis.call('EXISTS', KEYS[2])
if fresh == 0 or redis.call('EXISTS', KEYS[3]) == 1 then
  redis.call('INCRBY', KEYS[3], ARGV[1])
  redis.call('EXPIRE', KEYS[3], ${addedMeanwhileSeconds})
end
return {redis.call('INCRBY', KEYS[1], ARGV[1]), fresh}`;

/** Takes back ARGV[1] bytes counted for an addition that was refused (from both counts that hold them). */
const unstoreScript = `
if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('DECRBY', KEYS[1], ARGV[1]) end
if redis.call('EXISTS', KEYS[3]) == 1 then redis.call('DECRBY', KEYS[3], ARGV[1]) end`;

/**
 * Ends a read: the figure is Postgres's sum (ARGV[1]) plus what was added meanwhile (KEYS[3], then
 * cleared), kept ${storedBytesKeptSeconds} s and marked fresh for ARGV[2] seconds. Answers it. When
 * another read that overlapped this one has ended first (it took the count added meanwhile), its
 * figure stays: this read's sum no longer has what it needs on top.
 */
const finishReadScript = `
local meanwhile = redis.call('GET', KEYS[3])
if not meanwhile then
  local current = redis.call('GET', KEYS[1])
  if current then return tonumber(current) end
  meanwhile = '0'
end
local total = tonumber(ARGV[1]) + tonumber(meanwhile)
redis.call('DEL', KEYS[3])
redis.call('SET', KEYS[1], total, 'EX', ${storedBytesKeptSeconds})
redis.call('SET', KEYS[2], '1', 'EX', ARGV[2])
return total`;

/** Registers a socket when the user has fewer than `limit` live ones: 1, else 0. */
const openSocketScript = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return 1`;

/** Gives back what a check took (a place among the open chats, counted bytes). */
type Undo = () => Promise<void>;
const nothingToUndo: Undo = async () => undefined;
/** An undo that gives back at most once, however often it is called. */
const once = (undo: Undo): Undo => {
  let done: Promise<void> | undefined;
  return () => (done ??= undo());
};

/** What checkChat allows a send. */
export type ChatAllowance = {
  /** The turn's insert stores it only while the user has at most this many open chats; undefined: no limit. */
  maxOpenChats?: number;
  /** Once the turn is stored (or failed): frees its place among the sends starting. */
  release: Undo;
  /** The insert found the open chats full: gives back what the checks took; answers the refusal to throw. */
  refuse: () => Promise<RateLimitedError>;
};

/**
 * Runs the checks at once: one wait before the request is stored instead of one per check in turn
 * (issue 19). When one refuses, those that passed are undone and the first refusal, in the order
 * given, is thrown.
 */
async function allOrNone(checks: Promise<Undo>[]): Promise<Undo[]> {
  const settled = await Promise.allSettled(checks);
  const refused = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (!refused) return settled.map((r) => (r as PromiseFulfilledResult<Undo>).value);
  await Promise.all(settled.map((r) => (r.status === 'fulfilled' ? r.value() : undefined)));
  throw refused.reason;
}

/**
 * Per-principal limits, cluster-wide: every API node counts in the same Redis (keys under the
 * queue prefix's hash tag, so one slot on Redis Cluster). Rates use rate-limiter-flexible; open
 * chats are counted in Postgres by the turn's insert (a counter could leak when a worker dies
 * mid-answer); sockets are a sorted set of expiring entries refreshed by the node holding them.
 */
@Injectable()
export class LimitsService implements OnModuleDestroy {
  private readonly logger = new Logger(LimitsService.name);
  private readonly chatRate?: RateLimiterRedis;
  private readonly jobRate?: RateLimiterRedis;
  /** This node's sockets by user, refreshed in Redis while they stay open. */
  private readonly localSockets = new Map<string, Set<string>>();
  private readonly refresher: NodeJS.Timeout;
  private readonly storedReads = new Map<string, Promise<number>>();
  /** Users whose figure is being read off the request path (readInBackground). */
  private readonly backgroundReads = new Set<string>();
  /** Those reads, batched: the users connecting within a few milliseconds share one statement. */
  private readonly backgroundLoader: DataLoader<string, number>;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(REDIS) private readonly redis: Redis,
    private readonly repository: LimitsRepository,
  ) {
    const { rates, queuePrefix } = config;
    const limiter = (name: string, points: number) =>
      points > 0
        ? // A key that used its points is refused from this process's memory until its window ends:
          // a client flooding past its limit costs Redis nothing more.
          new RateLimiterRedis({ storeClient: redis, keyPrefix: `${queuePrefix}:rate:${name}`, points, duration: 60, inMemoryBlockOnConsumed: points })
        : undefined;
    this.chatRate = limiter('chat', rates.chatPerMinute);
    this.jobRate = limiter('jobs', rates.jobsPerMinute);
    // Defined scripts go as EVALSHA (the source once per connection), not EVAL with it every call.
    if (!redis.addStoredBytesIfCached) redis.defineCommand('addStoredBytesIfCached', { numberOfKeys: 3, lua: addIfCachedScript });
    if (!redis.unstoreStoredBytes) redis.defineCommand('unstoreStoredBytes', { numberOfKeys: 3, lua: unstoreScript });
    if (!redis.finishStoredBytesRead) redis.defineCommand('finishStoredBytesRead', { numberOfKeys: 3, lua: finishReadScript });
    if (!redis.openUserSocket) redis.defineCommand('openUserSocket', { numberOfKeys: 1, lua: openSocketScript });
    this.backgroundLoader = new DataLoader((owners) => repository.storedBytesOf(owners), {
      cache: false,
      maxBatchSize: 200,
      batchScheduleFn: (run) => setTimeout(run, backgroundBatchMs),
    });
    this.refresher = setInterval(() => void this.refreshSockets(), socketRefreshMs);
    this.refresher.unref();
  }

  onModuleDestroy() {
    clearInterval(this.refresher);
  }

  /**
   * Before a chat is stored: sends per minute and open chats of the user, and its storage. Open
   * chats are the user's queued and active chat jobs in Postgres plus sends between this check and
   * their insert (a short-lived Redis count, so a burst of sends cannot all pass before any is
   * stored). The Postgres part is the turn's insert itself: it stores the turn only while the user
   * has at most `maxOpenChats` open chats (one round trip less before the first token, issue 19).
   * After the rate, the sends starting and the storage are checked together; when one refuses,
   * what the other took is given back.
   */
  async checkChat(owner: string, addedBytes: number): Promise<ChatAllowance> {
    let maxOpenChats: number | undefined;
    let undoPlace = nothingToUndo;
    let undoBytes = nothingToUndo;
    await this.failOpen(async () => {
      // The rate first: a refused send then costs nothing more (see the limiters' in-memory block).
      await this.consume(this.chatRate, owner, `at most ${this.config.rates.chatPerMinute} chat messages a minute`);
      const held = this.holdChatPlace(owner);
      const [place, bytes] = await allOrNone([held.then((h) => h.undo), this.checkStorage(owner, addedBytes)]);
      maxOpenChats = (await held).maxOpen;
      [undoPlace, undoBytes] = [once(place!), once(bytes!)];
    });
    return {
      maxOpenChats,
      release: undoPlace,
      refuse: async () => {
        await Promise.all([undoPlace(), undoBytes()]);
        return this.tooManyOpenChats();
      },
    };
  }

  /**
   * A place among the sends starting for the user (held until `undo`) and how many open chats
   * Postgres may hold for this one to be stored: RATE_CHAT_CONCURRENT less the sends starting.
   */
  private async holdChatPlace(owner: string): Promise<{ undo: Undo; maxOpen?: number }> {
    const { chatConcurrent } = this.config.rates;
    if (chatConcurrent <= 0) return { undo: nothingToUndo };
    const key = `${this.config.queuePrefix}:chats-starting:${owner}`;
    const [[, starting]] = (await this.redis.multi().incr(key).pexpire(key, startingTtlMs).exec()) as [[unknown, number], unknown];
    const undo = async () => void (await this.redis.decr(key).catch(() => undefined));
    if (starting > chatConcurrent) {
      await undo();
      throw this.tooManyOpenChats();
    }
    return { undo, maxOpen: chatConcurrent - starting };
  }

  private tooManyOpenChats() {
    return new RateLimitedError(`At most ${this.config.rates.chatConcurrent} chats may be waiting or answering at once; wait for one to finish`, 2000);
  }

  /** Before a job is stored: submissions per minute of the client, and its storage. */
  async checkJob(owner: string, addedBytes: number): Promise<void> {
    await this.failOpen(async () => {
      await this.consume(this.jobRate, owner, `at most ${this.config.rates.jobsPerMinute} job submissions a minute`);
      await this.checkStorage(owner, addedBytes);
    });
  }

  /**
   * Limits give way while Redis is away: jobs are still accepted into Postgres then (the reconciler
   * enqueues them later) and chats fail at enqueue with their own clear error, as before limits.
   */
  private async failOpen(check: () => Promise<void>): Promise<void> {
    if (this.redis.status !== 'ready') return;
    try {
      // Bounded: a Redis that hangs must not hold the request (issue 13: answers within 2 s).
      await whenRedisUp(this.redis, this.config.redisEnqueueTimeoutMs, check);
    } catch (err) {
      if (!isDependencyOutage(err)) throw err;
      this.logger.warn('rate limits unavailable (Redis); request let through without them');
    }
  }

  /** On connect: false when the user already has RATE_SOCKETS_PER_USER open sockets. */
  async openSocket(owner: string, socketId: string): Promise<boolean> {
    const limit = this.config.rates.socketsPerUser;
    if (limit <= 0 || this.redis.status !== 'ready') return true;
    const now = Date.now();
    const ok = await this.redis.openUserSocket(this.socketsKey(owner), now, now + socketTtlMs, limit, socketId, socketTtlMs);
    if (ok !== 1) return false;
    let mine = this.localSockets.get(owner);
    if (!mine) this.localSockets.set(owner, (mine = new Set()));
    mine.add(socketId);
    return true;
  }

  async closeSocket(owner: string, socketId: string): Promise<void> {
    const mine = this.localSockets.get(owner);
    if (!mine?.delete(socketId)) return;
    if (mine.size === 0) this.localSockets.delete(owner);
    await this.redis.zrem(this.socketsKey(owner), socketId).catch(() => undefined);
  }

  private async refreshSockets() {
    if (this.localSockets.size === 0) return;
    const expires = Date.now() + socketTtlMs;
    const pipeline = this.redis.pipeline();
    for (const [owner, ids] of this.localSockets) {
      for (const id of ids) pipeline.zadd(this.socketsKey(owner), 'XX', expires, id);
      pipeline.pexpire(this.socketsKey(owner), socketTtlMs);
    }
    await pipeline.exec().catch((err) => this.logger.warn({ err }, 'socket count refresh failed'));
  }

  private socketsKey(owner: string) {
    return `${this.config.queuePrefix}:sockets:${owner}`;
  }

  /**
   * Bytes stored by the user, as Postgres last summed them, plus what was added since. One
   * round trip when a figure is cached: the script adds the new bytes and answers the total. A
   * figure older than a minute still lets a send through at once and is read again behind it (the
   * read sums the user's whole history, too long to wait for before every first token); it refuses
   * only once Postgres confirms.
   */
  private async checkStorage(owner: string, addedBytes: number): Promise<Undo> {
    const limit = this.config.rates.storedBytesPerUser;
    if (limit <= 0) return nothingToUndo;
    const cached = (await this.redis.addStoredBytesIfCached(...this.storedBytesKeys(owner), addedBytes)) as [number, number] | null;
    let total: number;
    // No figure: read it, then count these bytes on it (they were not counted meanwhile).
    if (!cached) total = await this.addStoredBytes(owner, addedBytes, await this.readStoredBytes(owner));
    else if (cached[1] === 1) total = cached[0];
    // Stale and refusing: read again first (these bytes are in the count added meanwhile).
    else if (cached[0] > limit) total = await this.readStoredBytes(owner);
    else {
      total = cached[0];
      this.readInBackground(owner);
    }
    if (total > limit) {
      await this.unstore(owner, addedBytes);
      throw new RateLimitedError(`Your stored conversations and jobs reached ${limit} bytes; delete some to add more`, storedBytesFreshSeconds * 1000);
    }
    return () => this.unstore(owner, addedBytes);
  }

  /**
   * When a user connects: reads their stored-bytes figure ahead of their first send unless a fresh
   * one is cached. Best effort and off the connect's path.
   */
  prefetchStorage(owner: string): void {
    if (this.config.rates.storedBytesPerUser <= 0 || this.redis.status !== 'ready' || this.backgroundReads.size >= backgroundReadsMax) return;
    this.redis.exists(this.storedBytesKeys(owner)[1]).then(
      (fresh) => {
        if (fresh === 0) this.readInBackground(owner);
      },
      () => undefined,
    );
  }

  /** Takes back bytes checkStorage counted for an addition that was refused. */
  private async unstore(owner: string, addedBytes: number): Promise<void> {
    if (addedBytes === 0) return;
    await this.redis.unstoreStoredBytes(...this.storedBytesKeys(owner), addedBytes).catch(() => undefined);
  }

  /** The user's figure, its freshness mark and the bytes added while it is read (one hash tag: one slot on Redis Cluster). */
  private storedBytesKeys(owner: string): [figure: string, fresh: string, addedMeanwhile: string] {
    const prefix = this.config.queuePrefix;
    return [`${prefix}:stored-bytes:${owner}`, `${prefix}:stored-bytes-fresh:${owner}`, `${prefix}:stored-bytes-meanwhile:${owner}`];
  }

  /** Counts bytes on a figure that is cached: the new total. */
  private async addStoredBytes(owner: string, addedBytes: number, figure: number): Promise<number> {
    if (addedBytes === 0) return figure;
    const cached = (await this.redis.addStoredBytesIfCached(...this.storedBytesKeys(owner), addedBytes)) as [number, number] | null;
    return cached ? cached[0] : figure + addedBytes;
  }

  /** A fresh figure read now; one Postgres read per user at a time (a burst of a client's submissions shares it). */
  private readStoredBytes(owner: string): Promise<number> {
    let pending = this.storedReads.get(owner);
    if (!pending) {
      pending = this.repository
        .storedBytes(owner)
        .then((bytes) => this.finishRead(owner, bytes))
        .finally(() => this.storedReads.delete(owner));
      this.storedReads.set(owner, pending);
    }
    return pending;
  }

  /** Caches a figure Postgres answered, plus what was added while it was read (finishReadScript). */
  private async finishRead(owner: string, bytes: number): Promise<number> {
    return Number(await this.redis.finishStoredBytesRead(...this.storedBytesKeys(owner), bytes, storedBytesFreshSeconds));
  }

  /** A fresh figure for the user, read with other users' in one statement; at most one read per user waiting. */
  private readInBackground(owner: string): void {
    if (this.backgroundReads.has(owner) || this.storedReads.has(owner) || this.backgroundReads.size >= backgroundReadsMax) return;
    this.backgroundReads.add(owner);
    const addedMeanwhile = this.storedBytesKeys(owner)[2];
    // The count of bytes added meanwhile begins before the read's snapshot (a request's own bytes are already in it).
    this.redis
      .set(addedMeanwhile, 0, 'EX', addedMeanwhileSeconds, 'NX')
      .then(() => this.backgroundLoader.load(owner))
      .then((bytes) => this.finishRead(owner, bytes))
      .catch((err: unknown) => this.logger.debug?.(`stored bytes read skipped: ${(err as Error).message}`))
      .finally(() => this.backgroundReads.delete(owner));
  }

  private async consume(limiter: RateLimiterRedis | undefined, key: string, what: string): Promise<void> {
    if (!limiter) return;
    try {
      await limiter.consume(key);
    } catch (err) {
      if (!(err instanceof RateLimiterRes)) throw err instanceof Error ? err : new Error(String(err));
      throw new RateLimitedError(`Too many requests: ${what}`, Math.max(1, err.msBeforeNext));
    }
  }
}

declare module 'ioredis' {
  interface RedisCommander<Context> {
    addStoredBytesIfCached(...args: (string | number)[]): Promise<unknown>;
    unstoreStoredBytes(...args: (string | number)[]): Promise<unknown>;
    finishStoredBytesRead(...args: (string | number)[]): Promise<unknown>;
    openUserSocket(...args: (string | number)[]): Promise<unknown>;
  }
}
