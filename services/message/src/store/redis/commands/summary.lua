--[[
  What a member's chat list shows of one chat: its newest retained message and how many
  messages after the member's read cursor the member did not send, counted up to a cap.

  The count reads at most cap + 1 entries a round, so it costs O(log N + cap), not the
  history. A member's own messages after their read cursor are rare (sending moves the
  sender's cursor; only a send whose member record has not been written yet leaves one), so
  the count stops after ten rounds whatever it found.

  KEYS[1] the chat's message stream
  ARGV[1] member
  ARGV[2] first entry id to count from ("(<read cursor>-0", or the retention start)
  ARGV[3] cap
  ARGV[4] oldest entry id retained ("-" when age is unlimited)

  Reply: { newest entry id or "", its sender, its text, unread (up to cap + 1) }
]]
local stream, member, from, cap, oldest = KEYS[1], ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4]

local newest = redis.call('XREVRANGE', stream, '+', oldest, 'COUNT', 1)[1]
if not newest then
  return { '', '', '', 0 }
end

local unread = 0
for _ = 1, 10 do
  local entries = redis.call('XRANGE', stream, from, '+', 'COUNT', cap + 1)
  for i = 1, #entries do
    if entries[i][2][2] ~= member then
      unread = unread + 1
    end
  end
  if unread > cap or #entries <= cap then
    break
  end
  from = '(' .. entries[#entries][1]
end
return { newest[1], newest[2][2], newest[2][4], unread }
