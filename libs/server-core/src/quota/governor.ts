import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RedisClient as Redis } from '../redis.js';
import { opsRecorder } from '../ops/ops-state.js';

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
  /** Who pays (budgets) and which shares apply; absent = no budgets or shares checked. */
  spend?: SpendRequest;
};

/** The caller's side of budgets and shares for one call (see budget.lua). */
export type SpendRequest = {
  /** `user:<sub>` or `client:<id>`, and `group:<name>` for each of the caller's groups. */
  subjects: string[];
  /** Worst-case cost of the call (USD): estimated input at the highest input price plus max output. */
  worstCostUsd: number;
  /** Worst-case tokens (input estimate plus max output). */
  worstTokens: number;
};

export type Admission =
  | { admitted: true; reservationId: string; place: string; /** A `warn` budget this call goes over. */ warnedBudgetId?: string }
  | { admitted: false; budgetExceeded: { budgetId: string; period: 'day' | 'month'; limit: 'usd' | 'tokens' } }
  | { admitted: false; position: number; retryInMs: number; place: string }
  | { admitted: false; never: true };

export type GovernorOptions = {
  /** Redis key prefix (a hash tag, e.g. `{sb}`): every quota key of the deployment shares its slot. */
  prefix: string;
  /** The quota period: Bedrock's is a minute; tests shorten it. */
  windowMs: number;
  /** Added to the window for clock differences between Redis and Bedrock. */
  safetyMarginMs: number;
};

// A call's budget reservation becomes what it cost, once. budgetRes: hash id → "cost|tokens|budget
// keys"; budgetExp: their expiry (zset); cost in USD × 1e9, none given: what it reserved (budget.lua's
// sweep of reservations never settled). 1 when applied, 0 when already settled.
const settleBudgetLua = `local function settleBudget(budgetRes, budgetExp, id, usd, tok)
  local r = redis.call('HGET', budgetRes, id)
  if not r then return 0 end
  local cost, toks, keys = string.match(r, '^([^|]*)|([^|]*)|(.*)$')
  for key in string.gmatch(keys, '%S+') do
    redis.call('HINCRBY', key, 'rusd', -tonumber(cost))
    redis.call('HINCRBY', key, 'rtok', -tonumber(toks))
    redis.call('HINCRBY', key, 'usd', usd or cost)
    redis.call('HINCRBY', key, 'tok', tok or toks)
  end
  redis.call('HDEL', budgetRes, id)
  redis.call('ZREM', budgetExp, id)
  return 1
end
`;
// Tokens reserved in a window live in a hash (reservation → tokens, a model's `:tok` and each
// share's) with their sum at `<hash>:sum`: an admission reads one number where it added up every
// reservation in the window (Redis time O(n), about 1.4 ms an admission at 10,000). Every change to
// such a hash goes through these. The sum is counted again from the hash when it is missing and at
// least every 10 s (its expiry): during a rolling deploy older workers change the hash without it,
// and the sum is right again within seconds. Fields go in chunks: Lua's unpack stops at about 8,000
// values, and a window can expire more than that at once (a pause after a busy minute).
const windowTokensLua = `local function eachChunk(ids, fn)
  for i = 1, #ids, 1000 do fn(unpack(ids, i, math.min(i + 999, #ids))) end
end
local function hdelAll(h, ids)
  eachChunk(ids, function(...) redis.call('HDEL', h, ...) end)
end
local function windowTokens(h)
  local sum = redis.call('GET', h .. ':sum')
  if sum then return tonumber(sum) end
  local t = 0
  for _, v in ipairs(redis.call('HVALS', h)) do t = t + tonumber(v) end
  redis.call('SET', h .. ':sum', t, 'PX', 10000)
  return t
end
local function addToWindowSum(h, delta)
  if delta ~= 0 and redis.call('EXISTS', h .. ':sum') == 1 then redis.call('INCRBY', h .. ':sum', delta) end
end
local function setWindowTokens(h, id, n)
  addToWindowSum(h, n - tonumber(redis.call('HGET', h, id) or '0'))
  redis.call('HSET', h, id, n)
end
local function dropWindowTokens(h, ids)
  if #ids == 0 then return end
  local freed = 0
  eachChunk(ids, function(...)
    for _, v in ipairs(redis.call('HMGET', h, ...)) do if v then freed = freed + tonumber(v) end end
  end)
  hdelAll(h, ids)
  if redis.call('HLEN', h) == 0 then redis.call('DEL', h .. ':sum') else addToWindowSum(h, -freed) end
end
`;
// Copied next to the compiled file by the build, so it loads the same from src/ and dist/.
// budget.lua (budgets and shares, its sweep using settleBudget) goes first: its functions are
// called by admit.lua in the same step.
const here = dirname(fileURLToPath(import.meta.url));
const admitScript = windowTokensLua + settleBudgetLua + readFileSync(join(here, 'budget.lua'), 'utf8') + '\n' + readFileSync(join(here, 'admit.lua'), 'utf8');
/** An unsettled budget reservation (its worker died mid-call) is charged at its worst case after this. */
const budgetReservationMaxMs = 30 * 60_000;
// Re-dates a reservation to now (Redis's clock), only if it is still there; the shares it counts
// against (budget.lua) with it.
const redateLua = `local function redate(reservations, resShares, id, base)
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  redis.call('ZADD', reservations, 'XX', now, id)
  local shares = redis.call('HGET', resShares, id)
  if shares then
    for share in string.gmatch(shares, '%S+') do redis.call('ZADD', base .. ':share:' .. share .. ':res', 'XX', now, id) end
  end
end
`;
// KEYS: reservations, reservation → shares. ARGV: reservation id, key base.
const redateScript = redateLua + `redate(KEYS[1], KEYS[2], ARGV[1], ARGV[2])`;
// KEYS: budget reservations, their expiry. ARGV: reservation id, cost (USD × 1e9), tokens.
const settleBudgetScript = settleBudgetLua + `return settleBudget(KEYS[1], KEYS[2], ARGV[1], ARGV[2], ARGV[3])`;
// The end of a call in one step (issue 19: one round trip). KEYS: reservations, tokens, reservation
// → shares, chat line, batch line, budget reservations, their expiry. ARGV: reservation id, used
// tokens (-1: unknown, the reservation keeps what it reserved), key base, how many waiting jobs to
// return, '1' to re-date first, budget cost (USD × 1e9; '' leaves the budget reservation), budget
// tokens. The used tokens replace the reserved ones only while the reservation is still in the
// window (HSET would resurrect an expired one); the shares it counts against (budget.lua) hold them
// too. Returns {chat head, batch head}: the jobs to wake, as the tokens freed were foreseen by nobody.
const settleScript = windowTokensLua + redateLua + settleBudgetLua + `if ARGV[5] == '1' then redate(KEYS[1], KEYS[3], ARGV[1], ARGV[3]) end
if ARGV[6] ~= '' then settleBudget(KEYS[6], KEYS[7], ARGV[1], ARGV[6], ARGV[7]) end
if tonumber(ARGV[2]) < 0 then return {{}, {}} end
if redis.call('ZSCORE', KEYS[1], ARGV[1]) then
  setWindowTokens(KEYS[2], ARGV[1], tonumber(ARGV[2]))
  local shares = redis.call('HGET', KEYS[3], ARGV[1])
  if shares then
    for id in string.gmatch(shares, '%S+') do
      local h = ARGV[3] .. ':share:' .. id .. ':tok'
      if redis.call('HEXISTS', h, ARGV[1]) == 1 then setWindowTokens(h, ARGV[1], tonumber(ARGV[2])) end
    end
  end
end
local n = tonumber(ARGV[4])
if n <= 0 then return {{}, {}} end
local chats = redis.call('ZRANGE', KEYS[4], 0, n - 1)
local batch = {}
if #chats < n then batch = redis.call('ZRANGE', KEYS[5], 0, n - #chats - 1) end
return {chats, batch}`;
// Gives a reservation back (its call never counted at Bedrock), in the shares it counts against too.
// KEYS: reservations, tokens, reservation → shares. ARGV: reservation id, key base.
const releaseScript = windowTokensLua + `redis.call('ZREM', KEYS[1], ARGV[1])
dropWindowTokens(KEYS[2], {ARGV[1]})
local shares = redis.call('HGET', KEYS[3], ARGV[1])
if shares then
  for id in string.gmatch(shares, '%S+') do
    redis.call('ZREM', ARGV[2] .. ':share:' .. id .. ':res', ARGV[1])
    dropWindowTokens(ARGV[2] .. ':share:' .. id .. ':tok', {ARGV[1]})
  end
  redis.call('HDEL', KEYS[3], ARGV[1])
end`;
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
    // Defined scripts go as EVALSHA (the source only once per connection), not EVAL each call.
    if (!redis.redateReservation) redis.defineCommand('redateReservation', { numberOfKeys: 2, lua: redateScript });
    if (!redis.settleReservation) redis.defineCommand('settleReservation', { numberOfKeys: 7, lua: settleScript });
    if (!redis.settleBudgetReservation) redis.defineCommand('settleBudgetReservation', { numberOfKeys: 2, lua: settleBudgetScript });
    if (!redis.releaseReservation) redis.defineCommand('releaseReservation', { numberOfKeys: 3, lua: releaseScript });
  }

  /**
   * Every model's quota state shares the deployment's tag (`{sb}`) with the budget and share keys:
   * admission checks the caller's budgets — counters across all models — in the same script as the
   * model's quota, and a script touches one Redis Cluster slot only.
   */
  keys(modelId: string) {
    const base = `${this.options.prefix}:quota:${modelId}`;
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
      base,
    };
  }

  /**
   * Takes a place in the model's line without reserving: a chat joins when it is sent, so calls
   * asking between then and a worker picking it up already queue behind it.
   */
  async join(req: Omit<AdmissionRequest, 'tokens' | 'keepPlace' | 'quota' | 'spend'>): Promise<void> {
    await this.run({ ...req, tokens: 0, quota: { requestsPerMinute: 0, tokensPerMinute: 0 } }, true);
  }

  async admit(req: AdmissionRequest): Promise<Admission> {
    const reply = await this.run(req, false);
    if (reply[0] === -1) return { admitted: false, never: true };
    if (reply[0] === -2) {
      return { admitted: false, budgetExceeded: { budgetId: String(reply[1]), period: reply[2] as 'day' | 'month', limit: reply[3] as 'usd' | 'tokens' } };
    }
    // The Operations page's per-minute chart (not awaited: admission's latency stays as it was).
    opsRecorder(this.redis).count(this.options.prefix, req.modelId, reply[0] === 1 ? 'requests' : 'deferrals');
    if (reply[0] === 1) {
      const warned = reply[3] ? String(reply[3]) : undefined;
      return { admitted: true, reservationId: String(reply[1]), place: String(reply[2]), ...(warned ? { warnedBudgetId: warned } : {}) };
    }
    return { admitted: false, position: Number(reply[1]), retryInMs: Math.max(0, Number(reply[2])), place: String(reply[3]) };
  }

  private async run(req: AdmissionRequest, joinOnly: boolean) {
    const k = this.keys(req.modelId);
    return (await this.redis.admitQuota(
      k.reservations, k.tokens, k.chatLine, k.batchLine, k.leases, k.owners, k.ownerCounts, k.blockedUntil, k.stats,
      req.jobId, req.owner, req.lane, Math.ceil(req.tokens), req.quota.requestsPerMinute, req.quota.tokensPerMinute,
      this.options.windowMs, this.options.safetyMarginMs, leaseGraceMs, req.keepPlace ?? '', joinOnly ? '1' : '0',
      // Always the last argument (budget.lua reads ARGV[#ARGV]).
      req.spend && !joinOnly ? this.spendSpec(req.modelId, req.spend) : '',
    )) as [number, string | number, (number | string)?, string?];
  }

  private spendSpec(modelId: string, spend: SpendRequest): string {
    const now = new Date();
    return JSON.stringify({
      p: this.options.prefix,
      q: this.keys(modelId).base,
      m: modelId,
      s: spend.subjects,
      c: Math.ceil(spend.worstCostUsd * 1e9),
      t: Math.ceil(spend.worstTokens),
      d: periodKey('day', now),
      mo: periodKey('month', now),
      x: budgetReservationMaxMs,
    });
  }

  /**
   * The call ended: its budget reservation becomes what it cost (0 when it never reached Bedrock).
   * Applied once (the reservation record is removed in the same step); false when already settled.
   */
  async settleBudget(reservationId: string, costUsd: number, tokens: number): Promise<boolean> {
    const p = this.options.prefix;
    const done = await this.redis.settleBudgetReservation(`${p}:budget:res`, `${p}:budget:res-exp`, reservationId, Math.round(costUsd * 1e9), Math.ceil(tokens));
    return done === 1;
  }

  /**
   * Re-dates a reservation to when Bedrock's response arrived. Bedrock counts a request when it
   * arrives there, which is after we reserved (by however long the SDK took, e.g. on a cold start)
   * and before its response: dated now, our window always ends after Bedrock's.
   */
  async redate(modelId: string, reservationId: string): Promise<void> {
    const k = this.keys(modelId);
    await this.redis.redateReservation(k.reservations, `${k.base}:res-shares`, reservationId, k.base);
  }

  /**
   * Replaces the reserved tokens with what the call used (null: unknown, they stay reserved), as
   * Bedrock corrects its count. Returns the first `wake` jobs waiting for the model (chats first)
   * in the same round trip: the ones to wake, as the tokens this frees were foreseen by nobody;
   * empty when nobody waits or nothing was freed. `also`, in the same step: the budget reservation
   * becomes what the call cost (see settleBudget), and a call that just ended is re-dated first (see redate).
   */
  async settle(
    modelId: string,
    reservationId: string,
    usedTokens: number | null,
    wake = 0,
    also: { budget?: { costUsd: number; tokens: number }; redate?: boolean } = {},
  ): Promise<{ lane: Lane; jobId: string }[]> {
    const k = this.keys(modelId);
    const p = this.options.prefix;
    if (usedTokens !== null) opsRecorder(this.redis).count(p, modelId, 'tokens', usedTokens);
    const reply = (await this.redis.settleReservation(
      k.reservations, k.tokens, `${k.base}:res-shares`, k.chatLine, k.batchLine, `${p}:budget:res`, `${p}:budget:res-exp`,
      reservationId, usedTokens === null ? -1 : Math.ceil(usedTokens), k.base, wake, also.redate ? '1' : '0',
      also.budget ? Math.round(also.budget.costUsd * 1e9) : '', also.budget ? Math.ceil(also.budget.tokens) : '',
    )) as [string[], string[]];
    return [...reply[0].map((jobId) => ({ lane: 'chat' as const, jobId })), ...reply[1].map((jobId) => ({ lane: 'batch' as const, jobId }))];
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
    await this.redis.releaseReservation(k.reservations, k.tokens, `${k.base}:res-shares`, reservationId, k.base);
    // Its budget reservation too: the call cost nothing.
    await this.settleBudget(reservationId, 0, 0);
  }

  /** Bedrock said 429 anyway (other callers share the account): nobody calls this model for a while. */
  async backOff(modelId: string, forMs: number): Promise<void> {
    const k = this.keys(modelId);
    opsRecorder(this.redis).count(this.options.prefix, modelId, 'throttles');
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

/** The period a budget counter belongs to: `2026-11-30` (day) or `2026-11` (month), calendar UTC. */
export function periodKey(period: 'day' | 'month', at: Date): string {
  const iso = at.toISOString();
  return period === 'day' ? iso.slice(0, 10) : iso.slice(0, 7);
}

/** When the period that contains `at` ends (the budget starts again), UTC. */
export function periodEnd(period: 'day' | 'month', at: Date): Date {
  return period === 'day'
    ? new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate() + 1))
    : new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth() + 1, 1));
}

/** When the period that contains `at` began, UTC. */
export function periodStart(period: 'day' | 'month', at: Date): Date {
  return period === 'day'
    ? new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate()))
    : new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), 1));
}

declare module 'ioredis' {
  interface RedisCommander<Context> {
    admitQuota(...args: (string | number)[]): Promise<unknown>;
    redateReservation(...args: (string | number)[]): Promise<unknown>;
    settleReservation(...args: (string | number)[]): Promise<unknown>;
    settleBudgetReservation(...args: (string | number)[]): Promise<unknown>;
    releaseReservation(...args: (string | number)[]): Promise<unknown>;
  }
}
