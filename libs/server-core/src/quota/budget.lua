-- ===== Budgets and weighted shares (issue 15) =====
-- governor.ts prepends this file to admit.lua: both run as ONE script, so a budget reservation is
-- taken in the same atomic step as the quota reservation (no overshoot across API nodes/workers).
-- admit.lua calls budgetGate / shareGate before its quota check and budgetReserve / shareReserve
-- when it admits. Everything here reads one argument: the LAST ARGV, a JSON spec (or '' = none):
--   p  key prefix ({sb}); q quota base key of the model ({sb}:quota:<model>); m model id
--   s  the caller's subjects: 'user:<sub>' or 'client:<id>', and 'group:<name>' per group
--   c  worst-case cost of the call in nano-USD; t worst-case tokens; d day key; mo month key
--   x  how long a reservation may stay unsettled (ms) before it is charged as reserved
-- Keys (all under the prefix's hash tag):
--   <p>:budget:defs            hash '<scope>:<subject>' -> JSON [{id, period, usd?, tok?, mode}]
--   <p>:budget:spent:<id>:<period key>  hash usd, tok (settled), rusd, rtok (reserved)
--   <p>:budget:res             hash resId -> '<cost>|<tokens>|<counter key> <counter key> …'
--   <p>:budget:res-exp         zset resId -> when an unsettled reservation is charged
--   <p>:shares:defs            hash shareId -> JSON {id, k: '<scope>:<subject>', m?: model, mn?, mx?}
--   <q>:share:<id>:res / :tok  the share's reservations in the window (like <q>:res / <q>:tok, and
--                              :tok's sum at :tok:sum, see windowTokensLua in governor.ts)
--   <q>:share:<id>:demand      set while a member of a min-share waits (others keep its part free)
--   <q>:share:<id>:chat-waiting  set while a member's chat waits (the share's batch calls let it go first)
--   <q>:res-shares             hash resId -> share ids it counts against (for settle/release)
local bspec = ARGV[#ARGV] ~= '' and cjson.decode(ARGV[#ARGV]) or nil
local function int(n) return string.format('%d', n) end
local dayMs = 86400000

-- Charges reservations whose call never settled (its worker died) at their worst case.
local function budgetSweep(now)
  local resKey, expKey = bspec.p .. ':budget:res', bspec.p .. ':budget:res-exp'
  for _, id in ipairs(redis.call('ZRANGEBYSCORE', expKey, '-inf', now, 'LIMIT', 0, 10)) do
    -- settleBudget (governor.ts puts it ahead of this file) without amounts: at what it reserved.
    if settleBudget(resKey, expKey, id) == 0 then redis.call('ZREM', expKey, id) end
  end
end

-- The budgets that apply to the caller. Returns 'ok', counters, warned-budget-id | 'wait', budget |
-- 'refuse', budget, 'usd'|'tokens'. A block budget refuses when what is SETTLED plus this call's worst
-- case would pass the limit (final: settled only grows), and waits while only pending reservations
-- of other calls stand in the way (they may settle lower), so the budget is used up to one call.
local function budgetGate(now)
  if not bspec or #bspec.s == 0 then return 'ok', {}, nil end
  local raw = redis.call('HMGET', bspec.p .. ':budget:defs', unpack(bspec.s))
  local counters, warned, waitFor = {}, nil, nil
  local swept = false
  for _, r in ipairs(raw) do
    if r then
      if not swept then budgetSweep(now); swept = true end
      for _, b in ipairs(cjson.decode(r)) do
        local key = bspec.p .. ':budget:spent:' .. b.id .. ':' .. (b.period == 'day' and bspec.d or bspec.mo)
        local v = redis.call('HMGET', key, 'usd', 'tok', 'rusd', 'rtok')
        local usd, tok, rusd, rtok = tonumber(v[1] or 0), tonumber(v[2] or 0), tonumber(v[3] or 0), tonumber(v[4] or 0)
        local settledOver = (b.usd and usd + bspec.c > b.usd) and 'usd' or ((b.tok and tok + bspec.t > b.tok) and 'tokens' or nil)
        local pendingOver = (b.usd and usd + rusd + bspec.c > b.usd) or (b.tok and tok + rtok + bspec.t > b.tok)
        if b.mode == 'block' then
          if settledOver then return 'refuse', b, settledOver end
          if pendingOver then waitFor = b end
        elseif settledOver or pendingOver then
          warned = b.id
        end
        counters[#counters + 1] = { key, b.period }
      end
    end
  end
  if waitFor then return 'wait', waitFor end
  return 'ok', counters, warned
end

local function budgetReserve(counters, resId, now)
  if #counters == 0 then return end
  local keys = {}
  for _, c in ipairs(counters) do
    redis.call('HINCRBY', c[1], 'rusd', int(bspec.c))
    redis.call('HINCRBY', c[1], 'rtok', int(bspec.t))
    redis.call('PEXPIRE', c[1], c[2] == 'day' and 3 * dayMs or 63 * dayMs)
    keys[#keys + 1] = c[1]
  end
  redis.call('HSET', bspec.p .. ':budget:res', resId, int(bspec.c) .. '|' .. int(bspec.t) .. '|' .. table.concat(keys, ' '))
  redis.call('ZADD', bspec.p .. ':budget:res-exp', now + bspec.x, resId)
end

-- A share's use of the model in the window (expired entries dropped).
local function shareUse(id, now, span)
  local z, h = bspec.q .. ':share:' .. id .. ':res', bspec.q .. ':share:' .. id .. ':tok'
  local expired = redis.call('ZRANGEBYSCORE', z, '-inf', now - span)
  if #expired > 0 then
    redis.call('ZREMRANGEBYSCORE', z, '-inf', now - span)
    dropWindowTokens(h, expired) -- governor.ts
  end
  return redis.call('ZCARD', z), windowTokens(h), z
end

-- Weighted shares of this model's quota. Returns:
--   capped   retry time (ms) when one of the caller's shares is at its maximum, else nil
--   priority true when one of the caller's shares is under its guaranteed minimum (goes before
--            the line's turn-taking)
--   holdR, holdT  requests/tokens kept free for OTHER shares under their minimum with calls waiting
--   mine     the caller's share ids (to count the call against)
local function shareGate(now, span, tokens, rpw, tpw, grace, lane)
  if not bspec then return nil, false, 0, 0, {} end
  local raw = redis.call('HVALS', bspec.p .. ':shares:defs')
  if #raw == 0 then return nil, false, 0, 0, {} end
  local subjects = {}
  for _, s in ipairs(bspec.s) do subjects[s] = true end
  local capped, priority, holdR, holdT, mine = nil, false, 0, 0, {}
  for _, r in ipairs(raw) do
    local sh = cjson.decode(r)
    if not sh.m or sh.m == bspec.m then
      if subjects[sh.k] then
        local n, t, z = shareUse(sh.id, now, span)
        mine[#mine + 1] = sh.id
        if sh.mx then
          local capR, capT = math.floor(rpw * sh.mx / 100), tpw * sh.mx / 100
          if n + 1 > capR or t + tokens > capT then
            local oldest = redis.call('ZRANGE', z, 0, 0, 'WITHSCORES')
            local at = oldest[2] and tonumber(oldest[2]) + span or now + 1000
            capped = math.max(capped or 0, at)
          end
        end
        if sh.mn and n < math.ceil(rpw * sh.mn / 100) and t + tokens <= tpw * sh.mn / 100 then
          redis.call('SET', bspec.q .. ':share:' .. sh.id .. ':demand', '1', 'PX', grace)
          -- Chats still go before batch within a share: a member's batch call does not jump the
          -- line while a member's chat is waiting for the share's minimum.
          local chatKey = bspec.q .. ':share:' .. sh.id .. ':chat-waiting'
          if lane == 'chat' then
            priority = true
            redis.call('SET', chatKey, '1', 'PX', grace)
          elseif redis.call('EXISTS', chatKey) == 0 then
            priority = true
          end
        end
      elseif sh.mn and redis.call('EXISTS', bspec.q .. ':share:' .. sh.id .. ':demand') == 1 then
        local n, t = shareUse(sh.id, now, span)
        holdR = holdR + math.max(0, math.ceil(rpw * sh.mn / 100) - n)
        holdT = holdT + math.max(0, tpw * sh.mn / 100 - t)
      end
    end
  end
  return capped, priority, holdR, holdT, mine
end

local function shareReserve(mine, resId, now, tokens, lane)
  if #mine == 0 then return end
  for _, id in ipairs(mine) do
    redis.call('ZADD', bspec.q .. ':share:' .. id .. ':res', now, resId)
    setWindowTokens(bspec.q .. ':share:' .. id .. ':tok', resId, tokens)
    if lane == 'chat' then redis.call('DEL', bspec.q .. ':share:' .. id .. ':chat-waiting') end
  end
  redis.call('HSET', bspec.q .. ':res-shares', resId, table.concat(mine, ' '))
end
-- ===== end of budgets and shares; admit.lua follows =====
