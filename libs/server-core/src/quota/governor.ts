import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { modelTag } from '../queues/queues.js';
import type { RedisClient as Redis } from '../redis.js';

export type Lane = 'chat' | 'batch';

export type AdmissionRequest = {
  modelId: string;
  quota: { requestsPerMinute: number; tokensPerMinute: number };
  jobId: string;
  owner: string;
  lane: Lane;
  /** Tokens the call may use: estimated input plus maxTokens, as Bedrock reserves them. */
  tokens: number;
  /** The score of an earlier place in line, to keep it after a throttle. */
  keepPlace?: string;
};

export type Admission =
  | { admitted: true; reservationId: string; place: string }
  | { admitted: false; position: number; retryInMs: number; place: string }
  | { admitted: false; never: true };

export type GovernorOptions = {
  /** The deployment's hash tag (`QUEUE_PREFIX`, e.g. `{sb}`); each model's keys get `{sb:<model>}`. */
  prefix: string;
  /** The quota period: Bedrock's is a minute; tests shorten it. */
  windowMs: number;
  /** Added to the window for clock differences between Redis and Bedrock. */
  safetyMarginMs: number;
};

// Copied next to the compiled file by the build, so it loads the same from src/ and dist/.
const admitScript = readFileSync(join(dirname(fileURLToPath(import.meta.url)), 'admit.lua'), 'utf8');
/** How long a waiting job keeps its place after the time it was told to come back. */
const leaseGraceMs = 10_000;

/**
 * Holds each model's requests- and tokens-per-window quota across every worker through Redis,
 * as a sliding window of reservations. Admission is one Lua script: it reserves a request and the
 * tokens a call may use, or says where the job stands in line and when to come back. Chats wait in
 * a line ahead of batch jobs; within a line users take turns.
 */
export class QuotaGovernor {
  constructor(
    private readonly redis: Redis,
    readonly options: GovernorOptions,
  ) {
    if (!redis.admitQuota) redis.defineCommand('admitQuota', { numberOfKeys: 9, lua: admitScript });
  }

  /**
   * One hash tag per model (`{sb:<model>}`): a model's quota state is one slot, so the admission
   * script works on Redis Cluster, and models spread over the shards instead of sharing one.
   */
  keys(modelId: string) {
    const base = `${modelTag(this.options.prefix, modelId)}:quota`;
    return {
      reservations: `${base}:res`,
      tokens: `${base}:tok`,
      chatLine: `${base}:line:chat`,
      batchLine: `${base}:line:batch`,
      leases: `${base}:leases`,
      owners: `${base}:owners`,
      ownerCounts: `${base}:owner-counts`,
      blockedUntil: `${base}:blocked-until`,
      stats: `${base}:stats`,
    };
  }

  /**
   * Takes a place in the model's line without reserving: a chat joins when it is sent, so calls
   * asking between then and a worker picking it up already queue behind it.
   */
  async join(req: Omit<AdmissionRequest, 'tokens' | 'keepPlace' | 'quota'>): Promise<void> {
    await this.run({ ...req, tokens: 0, quota: { requestsPerMinute: 0, tokensPerMinute: 0 } }, true);
  }

  async admit(req: AdmissionRequest): Promise<Admission> {
    const reply = await this.run(req, false);
    if (reply[0] === -1) return { admitted: false, never: true };
    if (reply[0] === 1) return { admitted: true, reservationId: String(reply[1]), place: String(reply[2]) };
    return { admitted: false, position: Number(reply[1]), retryInMs: Math.max(0, Number(reply[2])), place: String(reply[3]) };
  }

  private async run(req: AdmissionRequest, joinOnly: boolean) {
    const k = this.keys(req.modelId);
    return (await this.redis.admitQuota(
      k.reservations, k.tokens, k.chatLine, k.batchLine, k.leases, k.owners, k.ownerCounts, k.blockedUntil, k.stats,
      req.jobId, req.owner, req.lane, Math.ceil(req.tokens), req.quota.requestsPerMinute, req.quota.tokensPerMinute,
      this.options.windowMs, this.options.safetyMarginMs, leaseGraceMs, req.keepPlace ?? '', joinOnly ? '1' : '0',
    )) as [number, string | number, (number | string)?, string?];
  }

  /**
   * Re-dates a reservation to when Bedrock's response arrived. Bedrock counts a request when it
   * arrives there, which is after we reserved (by however long the SDK took, e.g. on a cold start)
   * and before its response: dated now, our window always ends after Bedrock's.
   */
  async redate(modelId: string, reservationId: string): Promise<void> {
    await this.redis.eval(
      `local t = redis.call('TIME')
       redis.call('ZADD', KEYS[1], 'XX', tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000), ARGV[1])`,
      1, this.keys(modelId).reservations, reservationId,
    );
  }

  /** Replaces the reserved tokens with what the call used, as Bedrock corrects its count. */
  async settle(modelId: string, reservationId: string, usedTokens: number): Promise<void> {
    const k = this.keys(modelId);
    // Only while the reservation is still in the window (HSET would resurrect an expired one).
    await this.redis.eval(
      "if redis.call('ZSCORE', KEYS[1], ARGV[1]) then redis.call('HSET', KEYS[2], ARGV[1], ARGV[2]) end",
      2, k.reservations, k.tokens, reservationId, Math.ceil(usedTokens),
    );
  }

  /** The first jobs waiting for a model, chats first: the ones to wake when capacity frees early. */
  async headOfLine(modelId: string, count: number): Promise<{ lane: Lane; jobId: string }[]> {
    const k = this.keys(modelId);
    const chats = await this.redis.zrange(k.chatLine, '0', String(count - 1));
    const batch = chats.length < count ? await this.redis.zrange(k.batchLine, '0', String(count - chats.length - 1)) : [];
    return [...chats.map((jobId) => ({ lane: 'chat' as const, jobId })), ...batch.map((jobId) => ({ lane: 'batch' as const, jobId }))];
  }

  /** The call never counted at Bedrock (it was throttled): give the reservation back. */
  async release(modelId: string, reservationId: string): Promise<void> {
    const k = this.keys(modelId);
    await this.redis.multi().zrem(k.reservations, reservationId).hdel(k.tokens, reservationId).exec();
  }

  /** Bedrock said 429 anyway (other callers share the account): nobody calls this model for a while. */
  async backOff(modelId: string, forMs: number): Promise<void> {
    const k = this.keys(modelId);
    await this.redis.eval(
      `local t = redis.call('TIME')
       local until_ = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) + tonumber(ARGV[1])
       if until_ > tonumber(redis.call('GET', KEYS[1]) or '0') then redis.call('SET', KEYS[1], until_, 'PX', ARGV[1]) end
       redis.call('HINCRBY', KEYS[2], 'throttled', 1)`,
      2, k.blockedUntil, k.stats, Math.ceil(forMs),
    );
  }

  /** A waiting job that will not come back (cancelled) leaves the line. */
  async leave(modelId: string, jobId: string): Promise<void> {
    const k = this.keys(modelId);
    const owner = await this.redis.hget(k.owners, jobId);
    const tx = this.redis.multi().zrem(k.chatLine, jobId).zrem(k.batchLine, jobId).zrem(k.leases, jobId).hdel(k.owners, jobId);
    if (owner) tx.hincrby(k.ownerCounts, owner, -1);
    await tx.exec();
  }

  /** Figures for /metrics. */
  async snapshot(modelId: string) {
    const k = this.keys(modelId);
    const [res, tok, chat, batch, blocked, stats] = (await this.redis
      .multi()
      .zcount(k.reservations, `(${Date.now() - this.options.windowMs - this.options.safetyMarginMs}`, '+inf')
      .hvals(k.tokens)
      .zcard(k.chatLine)
      .zcard(k.batchLine)
      .get(k.blockedUntil)
      .hgetall(k.stats)
      .exec())!.map(([, v]) => v) as [number, string[], number, number, string | null, Record<string, string>];
    return {
      requestsInWindow: res,
      tokensInWindow: tok.reduce((sum, v) => sum + Number(v), 0),
      waitingChats: chat,
      waitingBatch: batch,
      blockedForMs: Math.max(0, Number(blocked ?? 0) - Date.now()),
      admitted: Number(stats.admitted ?? 0),
      deferred: Number(stats.deferred ?? 0),
      throttled: Number(stats.throttled ?? 0),
    };
  }
}

declare module 'ioredis' {
  interface RedisCommander<Context> {
    admitQuota(...args: (string | number)[]): Promise<unknown>;
  }
}
