--[[
  Stores one chat message, at most once per idempotency key.

  The send_time is the server clock in microseconds, raised to one past the chat's newest
  message when the clock has not moved past it, so times are unique and strictly increasing
  within the chat. The stream entry id is "<send_time>-0", which makes XRANGE by send_time
  an O(log N) seek.

  KEYS[1] the chat's message stream
  KEYS[2] the idempotency record of ARGV[3] (same hash tag; untouched when ARGV[3] is "")
  ARGV[1] sender
  ARGV[2] text
  ARGV[3] client message id, or "" for none
  ARGV[4] lifetime of the idempotency record, in seconds

  Reply: { send_time (decimal string), sender, text, replayed (1 when an earlier send with
  the same key was found and nothing was stored, else 0) }
]]
local stream, record = KEYS[1], KEYS[2]
local sender, text, clientId, ttl = ARGV[1], ARGV[2], ARGV[3], ARGV[4]

if clientId ~= '' then
  local earlierId = redis.call('GET', record)
  if earlierId then
    local entry = redis.call('XRANGE', stream, earlierId, earlierId)[1]
    if entry then
      local fields = entry[2]
      return { string.sub(earlierId, 1, -3), fields[2], fields[4], 1 }
    end
  end
end

local clock = redis.call('TIME')
local sendTime = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
local newest = redis.call('XREVRANGE', stream, '+', '-', 'COUNT', 1)[1]
if newest then
  local newestTime = tonumber(string.match(newest[1], '^(%d+)-'))
  if newestTime >= sendTime then
    sendTime = newestTime + 1
  end
end

local sendTimeText = string.format('%.0f', sendTime)
local entryId = sendTimeText .. '-0'
redis.call('XADD', stream, entryId, 's', sender, 't', text)
if clientId ~= '' then
  redis.call('SET', record, entryId, 'EX', ttl)
end
return { sendTimeText, sender, text, 0 }
