--[[
  What the member scripts share; redis-members.ts puts it in front of each of them
  (memberScript), so every script still runs as one chunk in one slot.
]]

-- The server clock in microseconds, and the first free position of a member's log: the
-- clock, raised to one past the log's newest entry when it has not moved past it, so
-- positions increase whatever the clocks of the chats the events come from.
local function logClock(events)
  local clock = redis.call('TIME')
  local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
  local position = now
  local last = redis.call('XREVRANGE', events, '+', '-', 'COUNT', 1)[1]
  if last then
    local lastTime = tonumber(string.match(last[1], '^(%d+)-'))
    if lastTime >= position then
      position = lastTime + 1
    end
  end
  return now, position
end

-- Applies the log's retention: at most maxEvents entries, none older than maxAgeMs (0 turns
-- a limit off); a log that nothing was added to for maxAgeMs goes whole.
local function trimLog(events, now, maxEvents, maxAgeMs)
  if maxEvents > 0 then
    redis.call('XTRIM', events, 'MAXLEN', maxEvents)
  end
  if maxAgeMs > 0 then
    redis.call('XTRIM', events, 'MINID', string.format('%.0f', now - maxAgeMs * 1000) .. '-0')
    redis.call('PEXPIRE', events, maxAgeMs)
  end
end

-- Chats whose activity is below listSince (every message past the chats' retention by age)
-- leave the member's list, with their read cursors; 0 keeps them. At most 1,000 a call.
local function dropQuietChats(chats, read, listSince)
  if listSince > 0 then
    local quiet = redis.call('ZRANGE', chats, '-inf', '(' .. string.format('%.0f', listSince), 'BYSCORE', 'LIMIT', 0, 1000)
    if #quiet > 0 then
      redis.call('ZREM', chats, unpack(quiet))
      redis.call('HDEL', read, unpack(quiet))
    end
  end
end
