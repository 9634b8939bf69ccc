/**
 * A token bucket in its GCRA form ("generic cell rate algorithm"): the only state is the
 * bucket's theoretical arrival time (TAT), the moment it would be full again. Each request
 * pushes it one interval further; a request that would push it more than `burst` intervals
 * past now is refused. The Redis script (take-token.ts) runs the same arithmetic.
 */

/** `perMinute` requests per minute on average, up to `burst` at once. */
export interface RateRule {
  readonly perMinute: number;
  readonly burst: number;
}

/** What one request was told: allowed or not, and what the RateLimit-* headers say. */
export interface RateDecision {
  readonly allowed: boolean;
  readonly limit: number;
  readonly remaining: number;
  /** Seconds until the bucket is full again. */
  readonly resetSeconds: number;
  /** Seconds until a refused request would be allowed (0 when allowed). */
  readonly retryAfterSeconds: number;
}

/** Microseconds between two requests at the steady rate. */
export function intervalMicros(rule: RateRule): number {
  return Math.max(1, Math.floor(60_000_000 / rule.perMinute));
}

/** Turns the script's reply (microsecond counts) into a decision. */
export function toDecision(
  rule: RateRule,
  [allowed, remaining, retryAfterMicros, resetMicros]: readonly [number, number, number, number],
): RateDecision {
  return {
    allowed: allowed === 1,
    limit: rule.burst,
    remaining,
    resetSeconds: Math.ceil(resetMicros / 1_000_000),
    // Never 0 on a refusal: "retry after 0 s" invites a hot loop.
    retryAfterSeconds: allowed === 1 ? 0 : Math.max(1, Math.ceil(retryAfterMicros / 1_000_000)),
  };
}

/**
 * One step of the bucket: given the stored TAT (0 when none) and the time now, both in
 * microseconds, the reply and the TAT to store (undefined when nothing changes).
 */
export function takeToken(
  storedTat: number,
  now: number,
  rule: RateRule,
): { reply: [number, number, number, number]; newTat: number | undefined } {
  const interval = intervalMicros(rule);
  const capacity = interval * rule.burst;
  const tat = Math.max(storedTat, now);
  const newTat = tat + interval;
  if (newTat - now > capacity) return { reply: [0, 0, newTat - capacity - now, tat - now], newTat: undefined };
  return { reply: [1, Math.floor((capacity - (newTat - now)) / interval), 0, newTat - now], newTat };
}
