--[[
  A read cursor moved in one of a member's chats: the member's own (KEYS[1] is their read
  cursors) or the other member's (KEYS[1] is the member's record of others' cursors). The
  cursor only moves forward; when it moves, a read event goes into the member's log.
  Repeating a call changes nothing, so a caller may repeat it after a failure.

  KEYS[1] the cursors hash
  KEYS[2] the member's event log (stream)
  KEYS[3] the member's wake-up shard channel
  ARGV[1] the field of KEYS[1] (chat id, or "<chat id>\n<reader>")
  ARGV[2] chat id
  ARGV[3] reader
  ARGV[4] cursor (send_time)
  ARGV[5] most events kept in the log, 0 for no limit
  ARGV[6] longest an event is kept, in milliseconds, 0 for no limit

  Reply: the cursor after the call (decimal string).

  Runs with member-log.lua in front of it (logClock and trimLog come from there).
]]
local cursors, events, wake = KEYS[1], KEYS[2], KEYS[3]
local field, chat, reader, cursor = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local maxEvents, maxAgeMs = tonumber(ARGV[5]), tonumber(ARGV[6])

local current = redis.call('HGET', cursors, field)
if current and tonumber(current) >= tonumber(cursor) then
  return current
end
redis.call('HSET', cursors, field, cursor)

local now, position = logClock(events)
local id = string.format('%.0f', position)
redis.call('XADD', events, id .. '-0', 'e', 'r', 'c', chat, 's', reader, 't', '', 'p', cursor)
redis.call('SPUBLISH', wake, id)
trimLog(events, now, maxEvents, maxAgeMs)
return cursor
