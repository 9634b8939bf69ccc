--[[
  Stores one chat message, at most once per idempotency key or retry key, and applies the
  chat's retention.

  The send_time is the server clock in microseconds, raised to one past the chat's newest
  message when the clock has not moved past it, so times are unique and strictly increasing
  within the chat. The stream entry id is "<send_time>-0", which makes XRANGE by send_time
  an O(log N) seek. Every entry has the fields s (sender), t (text) and k (retry key, "" for
  none), always in that order, so Redis stores the field names once per stream node.

  Idempotency, two ways:
  - a client_message_id is recorded in the hash of the current generation (a fixed span of
    time) and looked up in the previous, current and next generation (the next one covers a
    replica whose clock runs ahead), so it is remembered for one to two generations;
  - a retry key lives only in the message's entry. A first attempt does not search for it; a
    retry (since_first_attempt_ms > 0) searches the entries stored since its first attempt,
    and when it stores the message itself, it leaves a short retry record, which a first
    attempt still on its way checks so that it does not store a copy.

  KEYS[1] the chat's message stream
  KEYS[2] client-id hash of the previous generation
  KEYS[3] client-id hash of the current generation (written)
  KEYS[4] client-id hash of the next generation
  KEYS[5] the retry record of ARGV[5]
  KEYS[6] the chat's wake-up shard channel (all six share the chat's hash tag)
  ARGV[1] sender
  ARGV[2] text
  ARGV[3] client message id, or "" for none
  ARGV[4] unix time in milliseconds at which the current generation's hash expires
  ARGV[5] retry key, or "" for none
  ARGV[6] milliseconds since the first attempt (0 on the first attempt)
  ARGV[7] how far before that a retry looks, for clock differences, in milliseconds
  ARGV[8] most entries a retry looks through
  ARGV[9] life of a retry record, in milliseconds
  ARGV[10] most messages kept in the chat, 0 for no limit
  ARGV[11] longest a message is kept, in milliseconds, 0 for no limit

  A stored message is published on the wake-up channel (SPUBLISH, its send_time), which
  wakes the chat's live readers; they read the stream itself, so a lost wake-up delays
  delivery but loses nothing. A replayed send publishes nothing.

  Reply: { send_time (decimal string), sender, text, replayed (1 when an earlier attempt or
  a send with the same key was found and nothing was stored, else 0), and, when a message
  was stored, the send_time of the chat's newest message before it ("0" for none) }. A retry that cannot
  look through every entry since its first attempt fails with RETRYSCAN.
]]
local stream, record = KEYS[1], KEYS[5]
local sender, text, clientId, idsExpireAt = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local retryKey, sinceMs, allowanceMs = ARGV[5], tonumber(ARGV[6]), tonumber(ARGV[7])
local maxScan, recordMs = tonumber(ARGV[8]), ARGV[9]
local maxMessages, maxAgeMs = tonumber(ARGV[10]), tonumber(ARGV[11])

local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])

-- An earlier send stored at `sendTime`: its message, or what was sent when retention has
-- removed it since (it is not stored again).
local function replay(sendTime)
  local entry = redis.call('XRANGE', stream, sendTime .. '-0', sendTime .. '-0')[1]
  if entry then
    return { sendTime, entry[2][2], entry[2][4], 1 }
  end
  return { sendTime, sender, text, 1 }
end

if clientId ~= '' then
  for _, ids in ipairs({ KEYS[3], KEYS[2], KEYS[4] }) do
    local earlier = redis.call('HGET', ids, clientId)
    if earlier then
      return replay(earlier)
    end
  end
elseif retryKey ~= '' then
  local earlier = redis.call('GET', record)
  if earlier then
    return replay(earlier)
  end
  if sinceMs > 0 then
    local from = string.format('%.0f', now - (sinceMs + allowanceMs) * 1000) .. '-0'
    local scanned = 0
    while true do
      local entries = redis.call('XRANGE', stream, from, '+', 'COUNT', 500)
      for i = 1, #entries do
        local fields = entries[i][2]
        if fields[6] == retryKey then
          return { string.sub(entries[i][1], 1, -3), fields[2], fields[4], 1 }
        end
      end
      scanned = scanned + #entries
      if #entries < 500 then
        break
      end
      if scanned >= maxScan then
        return redis.error_reply('RETRYSCAN more than ' .. maxScan .. ' messages since the first attempt')
      end
      from = '(' .. entries[#entries][1]
    end
  end
end

local sendTime = now
local previous = '0'
local newest = redis.call('XREVRANGE', stream, '+', '-', 'COUNT', 1)[1]
if newest then
  previous = string.match(newest[1], '^(%d+)-')
  local newestTime = tonumber(previous)
  if newestTime >= sendTime then
    sendTime = newestTime + 1
  end
end

local sendTimeText = string.format('%.0f', sendTime)
redis.call('XADD', stream, sendTimeText .. '-0', 's', sender, 't', text, 'k', retryKey)
if clientId ~= '' then
  redis.call('HSET', KEYS[3], clientId, sendTimeText)
  redis.call('PEXPIREAT', KEYS[3], idsExpireAt)
elseif retryKey ~= '' and sinceMs > 0 then
  redis.call('SET', record, sendTimeText, 'PX', recordMs)
end
redis.call('SPUBLISH', KEYS[6], sendTimeText)
if maxMessages > 0 then
  redis.call('XTRIM', stream, 'MAXLEN', maxMessages)
end
if maxAgeMs > 0 then
  redis.call('XTRIM', stream, 'MINID', string.format('%.0f', now - maxAgeMs * 1000) .. '-0')
  -- Once no send has come for the whole age, every message is past it: the chat goes.
  redis.call('PEXPIRE', stream, maxAgeMs)
end
return { sendTimeText, sender, text, 0, previous }
