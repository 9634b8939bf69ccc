--[[
  One page of a member's chat list, most recently active first (ties by chat id,
  descending), starting right below a position (activity, chat id) when one is given.

  KEYS[1] the member's chat list (sorted set: chat id -> activity)
  KEYS[2] the member's read cursors (hash)
  KEYS[3] the member's record of the other members' read cursors (hash: "<chat id>\n<member>")
  ARGV[1] activity of the previous page's last row, or "" for the first page
  ARGV[2] chat id of that row (compared by the caller)
  ARGV[3] rows wanted + 1 (to tell whether more follow)
  ARGV[4] activity below which chats leave the list (the chats' retention by age), 0 for none
  ARGV[5] the member

  Reply: { ties, rows }, each { chat id, activity, read cursor ("" for none), the other
  member's read cursor ("" for none), ... }: ties are
  the rows of exactly the cursor's activity (ascending), rows up to ARGV[3] below it.

  Runs with member-log.lua in front of it (dropQuietChats come from there).
]]
local chats, read, receipts = KEYS[1], KEYS[2], KEYS[3]
local member = ARGV[5]
local fromActivity, wanted, listSince = ARGV[1], tonumber(ARGV[3]), tonumber(ARGV[4])

dropQuietChats(chats, read, listSince)

local function withCursors(rows)
  local reply = {}
  for i = 1, #rows, 2 do
    reply[#reply + 1] = rows[i]
    reply[#reply + 1] = string.format('%.0f', tonumber(rows[i + 1]))
    reply[#reply + 1] = redis.call('HGET', read, rows[i]) or ''
    local first, second = string.match(rows[i], '^([^:]*):(.*)$')
    local other = first == member and second or first
    reply[#reply + 1] = redis.call('HGET', receipts, rows[i] .. '\n' .. other) or ''
  end
  return reply
end

if fromActivity == '' then
  return { {}, withCursors(redis.call('ZRANGE', chats, '+inf', '-inf', 'BYSCORE', 'REV', 'LIMIT', 0, wanted, 'WITHSCORES')) }
end
-- Rows of exactly the cursor's activity (rare: two chats with one send_time) are compared
-- with the cursor's chat id by the caller; then the rows below that activity.
local ties = redis.call('ZRANGE', chats, fromActivity, fromActivity, 'BYSCORE', 'LIMIT', 0, 1000, 'WITHSCORES')
local lower = redis.call('ZRANGE', chats, '(' .. fromActivity, '-inf', 'BYSCORE', 'REV', 'LIMIT', 0, wanted, 'WITHSCORES')
return { withCursors(ties), withCursors(lower) }
