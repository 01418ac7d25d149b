-- Atomic admission for one model: reserve one request and `tokens` in the sliding window, or
-- report the caller's place in line and when capacity should be there for it.
-- KEYS: 1 reservations (zset resId -> ms), 2 reserved tokens (hash resId -> tokens),
--       (their sum at `<2>:sum`, see windowTokensLua in governor.ts, prepended with budget.lua)
--       3 chat line (zset), 4 batch line (zset), 5 leases (zset jobId -> expiry ms),
--       6 owner of each waiting job (hash), 7 waiting jobs per owner (hash), 8 blocked-until, 9 stats (hash)
-- ARGV: 1 jobId, 2 owner, 3 lane, 4 tokens, 5 requests per window, 6 tokens per window,
--       7 window ms, 8 safety margin ms, 9 lease grace ms, 10 score to keep a place (or ''),
--       11 '1' to only join the line (the API does this when a chat is sent, before any worker has it)
--       LAST: the budgets/shares spec of budget.lua ('' = none; budget.lua is prepended to this file)
-- Returns {1, resId, score, warnedBudgetId|''} when admitted, {0, position, retryInMs, score} when not,
-- {-1} when the request can never fit the quota, {-2, budgetId, period, 'usd'|'tokens'} when a
-- block budget refuses it (budget.lua).
local res, tok, chatLine, batchLine, leases, owners, ownerCounts, blockedKey, stats =
  KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8], KEYS[9]
local jobId, owner, lane = ARGV[1], ARGV[2], ARGV[3]
local tokens, rpw, tpw = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local window, margin, grace = tonumber(ARGV[7]), tonumber(ARGV[8]), tonumber(ARGV[9])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local span = window + margin

if tokens > tpw then return {-1} end

local function leaveLine(id)
  redis.call('ZREM', chatLine, id)
  redis.call('ZREM', batchLine, id)
  redis.call('ZREM', leases, id)
  local who = redis.call('HGET', owners, id)
  if who then
    redis.call('HDEL', owners, id)
    if redis.call('HINCRBY', ownerCounts, who, -1) <= 0 then redis.call('HDEL', ownerCounts, who) end
  end
end

-- Reservations older than the window no longer count.
local expired = redis.call('ZRANGEBYSCORE', res, '-inf', now - span)
if #expired > 0 then
  redis.call('ZREMRANGEBYSCORE', res, '-inf', now - span)
  dropWindowTokens(tok, expired) -- governor.ts
  if bspec then hdelAll(bspec.q .. ':res-shares', expired) end -- budget.lua
end
-- Jobs that stopped coming back (cancelled, removed, crashed) lose their place.
for _, id in ipairs(redis.call('ZRANGEBYSCORE', leases, '-inf', now)) do leaveLine(id) end

-- Join the line once: chats and batch jobs wait in separate lines, chats first. Within a line a
-- user's n-th waiting job ranks with everyone else's n-th, so one user's backlog can't starve others.
local line = lane == 'chat' and chatLine or batchLine
local score = redis.call('ZSCORE', line, jobId)
if not score then
  if ARGV[10] ~= '' then
    score = tonumber(ARGV[10])
  else
    local n = math.min(tonumber(redis.call('HGET', ownerCounts, owner) or '0') + 1, 4095)
    score = n * 1099511627776 + (now - 1700000000000)
  end
  redis.call('ZADD', line, score, jobId)
  redis.call('HSET', owners, jobId, owner)
  redis.call('HINCRBY', ownerCounts, owner, 1)
end
score = tonumber(score)

local rank = redis.call('ZRANK', line, jobId)
if lane ~= 'chat' then rank = rank + redis.call('ZCARD', chatLine) end
if ARGV[11] == '1' then
  redis.call('ZADD', leases, now + grace, jobId)
  return {0, rank + 1, 0, tostring(score)}
end

-- >>> budgets and shares (budget.lua): refuse over a block budget, wait for pending reservations,
-- cap at a share's maximum, keep other shares' minimum free, let an under-minimum share go first.
local budgetState, budgetInfo, budgetWarned = budgetGate(now)
if budgetState == 'refuse' then
  leaveLine(jobId)
  redis.call('HINCRBY', stats, 'refused', 1)
  return {-2, budgetInfo.id, budgetInfo.period, budgetWarned}
end
local shareCappedAt, sharePriority, holdRequests, holdTokens, myShares = shareGate(now, span, tokens, rpw, tpw, grace + 1000, lane)
-- <<< budgets and shares

local used = redis.call('ZCARD', res)
local tokensUsed = windowTokens(tok)
local blocked = tonumber(redis.call('GET', blockedKey) or '0')
local freeRequests = rpw - used - holdRequests
local inTurn = rank < freeRequests or (sharePriority and freeRequests > 0)

if now >= blocked and inTurn and tokensUsed + tokens + holdTokens <= tpw and budgetState == 'ok' and not shareCappedAt then
  local resId = jobId .. ':' .. now
  redis.call('ZADD', res, now, resId)
  setWindowTokens(tok, resId, tokens)
  budgetReserve(budgetInfo, resId, now) -- budget.lua
  shareReserve(myShares, resId, now, tokens, lane) -- budget.lua
  leaveLine(jobId)
  redis.call('HINCRBY', stats, 'admitted', 1)
  return {1, resId, tostring(score), budgetWarned or ''}
end

-- Not yet: when will there be room for this place in line?
local retryAt = now
if rank >= freeRequests then
  local k = rank - freeRequests
  local r = redis.call('ZRANGE', res, k, k, 'WITHSCORES')
  if r[2] then retryAt = tonumber(r[2]) + span end
end
if tokensUsed + tokens > tpw then
  local need = tokensUsed + tokens - tpw
  local freed = 0
  -- Oldest first, a page at a time: the few oldest usually free enough, and a busy window holds thousands.
  local from, found = 0, false
  while not found do
    local page = redis.call('ZRANGE', res, from, from + 99, 'WITHSCORES')
    if #page == 0 then break end
    local ids = {}
    for i = 1, #page, 2 do ids[#ids + 1] = page[i] end
    local amounts = redis.call('HMGET', tok, unpack(ids))
    for j = 1, #ids do
      freed = freed + tonumber(amounts[j] or '0')
      if freed >= need then
        retryAt = math.max(retryAt, tonumber(page[2 * j]) + span)
        found = true
        break
      end
    end
    from = from + 100
  end
end
retryAt = math.max(retryAt, blocked)
if shareCappedAt then retryAt = math.max(retryAt, shareCappedAt) end -- budget.lua: at the share's max
if budgetState == 'wait' then retryAt = math.max(retryAt, now + 250) end -- budget.lua: others' calls settle
redis.call('ZADD', leases, retryAt + grace, jobId)
redis.call('HINCRBY', stats, 'deferred', 1)
return {0, rank + 1, retryAt - now, tostring(score)}
