/**
 * Takes one request from a token bucket kept in Redis (GCRA form, see token-bucket.ts).
 * The clock is the Redis server's, one clock for every edge replica. Kept in TypeScript so
 * it is compiled into dist/ with the rest of the edge; it is loaded once with defineCommand.
 *
 * KEYS[1] the bucket of one user (or client address) and one action
 * ARGV[1] interval between two requests at the steady rate, in microseconds
 * ARGV[2] burst: requests allowed at once
 *
 * Reply: { allowed (1 or 0), remaining, retry_after_us (0 when allowed), reset_us }
 */
export const takeTokenScript = `
local key = KEYS[1]
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
local tat = tonumber(redis.call('GET', key) or '0')
if tat < now then
  tat = now
end
local newTat = tat + interval
local capacity = interval * burst
if newTat - now > capacity then
  return { 0, 0, newTat - capacity - now, tat - now }
end
redis.call('SET', key, string.format('%.0f', newTat), 'PX', math.ceil((newTat - now) / 1000))
return { 1, math.floor((capacity - (newTat - now)) / interval), 0, newTat - now }
`;
