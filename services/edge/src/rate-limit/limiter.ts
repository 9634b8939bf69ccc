import { takeToken, toDecision, type RateDecision, type RateRule } from "./token-bucket.js";
import { bucketKey } from "./keys.js";

/** Counts requests per identity (a user, or a client address) and action. */
export interface RateLimiter {
  /**
   * Takes one request from the bucket of `identity` for `action`. Undefined means the
   * limiter could not decide (its Redis is down) and the request goes through.
   */
  take(action: string, identity: string, rule: RateRule): Promise<RateDecision | undefined>;
  close(): Promise<void>;
}

/**
 * Buckets in this process only: for `make run` and single-replica setups. Replicas do not
 * share them, so N replicas allow N times the configured rate.
 */
export class MemoryRateLimiter implements RateLimiter {
  readonly #tats = new Map<string, number>();
  readonly #sweeper = setInterval(() => this.#dropFullBuckets(), 60_000).unref();

  async take(action: string, identity: string, rule: RateRule): Promise<RateDecision> {
    const key = bucketKey(action, identity);
    const { reply, newTat } = takeToken(this.#tats.get(key) ?? 0, nowMicros(), rule);
    if (newTat !== undefined) this.#tats.set(key, newTat);
    return toDecision(rule, reply);
  }

  async close(): Promise<void> {
    clearInterval(this.#sweeper);
  }

  // A bucket whose TAT has passed is full: forgetting it changes nothing.
  #dropFullBuckets(): void {
    const now = nowMicros();
    for (const [key, tat] of this.#tats) if (tat <= now) this.#tats.delete(key);
  }
}

function nowMicros(): number {
  return Math.floor((performance.timeOrigin + performance.now()) * 1000);
}
