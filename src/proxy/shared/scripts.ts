/**
 * The Lua scripts the shared store runs, each atomic in Redis. Time is Redis's own (`TIME`), so processes whose clocks
 * disagree still agree on the pace and the windows.
 */
import { script } from './store';

/**
 * The account's pace as evenly spaced slots, as the local pacer: KEYS next slot and hold-until (µs), ARGV the mode
 * and a number. `take` reserves the next free slot, ARGV[2] µs apart, and answers the µs to wait for it; `peek`
 * answers that wait without reserving; `hold` (an upstream Retry-After of ARGV[2] µs) pushes every later slot past it.
 */
export const PACE = script(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local n = tonumber(ARGV[2])
local held = tonumber(redis.call('GET', KEYS[2]) or 0)
local at = math.max(now, tonumber(redis.call('GET', KEYS[1]) or 0), held)
if ARGV[1] == 'take' then
  redis.call('SET', KEYS[1], string.format('%d', at + n), 'PX', math.floor((at + n - now) / 1000) + 60000)
elseif ARGV[1] == 'hold' then
  held = math.max(held, now + n)
  redis.call('SET', KEYS[2], string.format('%d', held), 'PX', math.floor((held - now) / 1000) + 1000)
  return 0
end
return at - now
`);

/**
 * One key's sliding window of records, exact like the in-memory one: KEYS the window (a sorted set of
 * `cost:id` scored by ms), ARGV window ms, limit, cost (0 only asks) and a unique id. Answers {1, 0} when it may go
 * ahead (the cost then spent), or {0, ms} until enough of the window has left it.
 */
export const WINDOW = script(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window, limit, cost = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local entries = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
local spent = 0
for i = 1, #entries, 2 do spent = spent + tonumber(string.match(entries[i], '^%d+')) end
local over = spent + math.max(1, cost) - limit
if over > 0 then
  local freed, i = 0, -1
  while freed < over do
    i = i + 2
    freed = freed + tonumber(string.match(entries[i], '^%d+'))
  end
  return {0, tonumber(entries[i + 1]) + window - now}
end
if cost > 0 then
  redis.call('ZADD', KEYS[1], now, cost .. ':' .. ARGV[4])
  redis.call('PEXPIRE', KEYS[1], window)
end
return {1, 0}
`);

/**
 * Newest write wins, for one record: KEYS one hash per identity (attribute → `capture ms:value digest`), ARGV the
 * record's capture ms, the keys' lifetime in ms (`maxAgeDays`: an older record is refused, so an older time can never
 * win; 0 checks the record without recording anything), its browser's digest ('' for none), then each attribute's
 * name and value digest. Answers the names whose newest write, under any identity, was captured later by another
 * browser with another value; records the others under every identity (`ms:digest:browser`).
 */
export const NEWEST = script(`
local at, by = tonumber(ARGV[1]), ARGV[3]
local names, prints = {}, {}
for i = 4, #ARGV, 2 do
  names[#names + 1] = ARGV[i]
  prints[#prints + 1] = ARGV[i + 1]
end
local newest, newestPrint, newestBy = {}, {}, {}
for _, key in ipairs(KEYS) do
  local known = redis.call('HMGET', key, unpack(names))
  for i = 1, #names do
    if known[i] then
      local t, p, b = string.match(known[i], '^([^:]+):([^:]*):?(.*)$')
      t = tonumber(t)
      if not newest[i] or t > newest[i] then newest[i], newestPrint[i], newestBy[i] = t, p, b end
    end
  end
end
local older, fields = {}, {}
for i = 1, #names do
  if newest[i] and newest[i] > at and newestPrint[i] ~= prints[i] and (by == '' or newestBy[i] ~= by) then
    older[#older + 1] = names[i]
  else
    fields[#fields + 1] = names[i]
    fields[#fields + 1] = string.format('%d', math.max(at, newest[i] or at)) .. ':' .. prints[i] .. ':' .. by
  end
end
if #fields > 0 and ARGV[2] ~= '0' then
  for _, key in ipairs(KEYS) do
    redis.call('HSET', key, unpack(fields))
    redis.call('PEXPIRE', key, ARGV[2])
  end
end
return older
`);
