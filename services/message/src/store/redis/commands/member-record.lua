--[[
  Records messages of one chat in a member's chat list and event log, if the list holds the
  chat where the caller expects it or later. All keys are the member's (one hash tag, one slot); the
  chat's own keys are in another slot, so this runs after send.lua, as a second write that
  the next send or retry of the chat repairs when it is missing (see record-send.ts).

  KEYS[1] the member's chat list (sorted set: chat id -> activity)
  KEYS[2] the member's read cursors (hash: chat id -> send_time)
  KEYS[3] the member's event log (stream)
  KEYS[4] the member's wake-up shard channel
  ARGV[1] member
  ARGV[2] chat id
  ARGV[3] where the caller's messages start: they are every message of the chat after this
          send_time (0: as far back as the caller read), so a list at or past it can take
          those after its own position; negative when the caller does not know (a replay)
  ARGV[4] most events kept in the log, 0 for no limit
  ARGV[5] longest an event is kept, in milliseconds, 0 for no limit
  ARGV[6] activity below which chats leave the list (the chats' retention by age), 0 for none
  ARGV[7..] the messages, oldest first: send_time, sender, text, send_time, sender, text, ...

  Each message after the list's activity is appended to the log at the log's clock (one
  past its newest entry when the clock has not moved past it, so positions increase
  whatever the chat's clock says); the chat's activity becomes the newest send_time; the
  member's read cursor moves to their own newest message.

  Reply: { 1, activity } when the list now holds the chat at or past the newest message,
  { 0, activity } when it held the chat before ARGV[3] (or ARGV[3] is negative) and nothing
  was written.

  Runs with member-log.lua in front of it (logClock, trimLog and dropQuietChats come from there).
]]
local chats, read, events, wake = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local member, chat, expected = ARGV[1], ARGV[2], tonumber(ARGV[3])
local maxEvents, maxAgeMs, listSince = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local newest = ARGV[#ARGV - 2]

local at = redis.call('ZSCORE', chats, chat)
local atTime = at and tonumber(at) or 0
if atTime >= tonumber(newest) then
  return { 1, string.format('%.0f', atTime) }
end
-- Behind where the given messages start, taking them would leave a gap.
if expected < 0 or atTime < expected then
  return { 0, string.format('%.0f', atTime) }
end

local now, position = logClock(events)

local ownNewest = nil
for i = 7, #ARGV, 3 do
  local sendTime, sender = ARGV[i], ARGV[i + 1]
  if tonumber(sendTime) > atTime then
    redis.call('XADD', events, string.format('%.0f', position) .. '-0', 'e', 'm', 'c', chat, 's', sender, 't', ARGV[i + 2], 'p', sendTime)
    position = position + 1
    if sender == member then
      ownNewest = sendTime
    end
  end
end
if ownNewest then
  local cursor = redis.call('HGET', read, chat)
  if not cursor or tonumber(cursor) < tonumber(ownNewest) then
    redis.call('HSET', read, chat, ownNewest)
  end
end
redis.call('ZADD', chats, newest, chat)
redis.call('SPUBLISH', wake, string.format('%.0f', position - 1))

trimLog(events, now, maxEvents, maxAgeMs)
dropQuietChats(chats, read, listSince)
return { 1, newest }
