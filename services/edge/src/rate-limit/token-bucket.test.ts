import { describe, expect, it } from "vitest";
import { MemoryRateLimiter } from "./limiter.js";
import { bucketKey } from "./keys.js";
import { takeToken, toDecision, type RateRule } from "./token-bucket.js";

const second = 1_000_000;

/** Runs `count` requests at time `at`, carrying the bucket state along. */
function requests(rule: RateRule, state: { tat: number }, at: number, count: number) {
  return Array.from({ length: count }, () => {
    const { reply, newTat } = takeToken(state.tat, at, rule);
    if (newTat !== undefined) state.tat = newTat;
    return toDecision(rule, reply);
  });
}

describe("token bucket (GCRA)", () => {
  const rule = { perMinute: 60, burst: 3 };

  it("allows a burst, then refuses with the time until the next token", () => {
    const state = { tat: 0 };
    const decisions = requests(rule, state, 100 * second, 4);
    expect(decisions.map((d) => [d.allowed, d.remaining])).toEqual([[true, 2], [true, 1], [true, 0], [false, 0]]);
    expect(decisions[3]).toMatchObject({ limit: 3, retryAfterSeconds: 1, resetSeconds: 3 });
    expect(decisions[2]!.resetSeconds).toBe(3);
  });

  it("refills at the steady rate", () => {
    const state = { tat: 0 };
    requests(rule, state, 100 * second, 3);
    expect(requests(rule, state, 100 * second + 999_999, 1)[0]!.allowed).toBe(false);
    expect(requests(rule, state, 101 * second, 2).map((d) => d.allowed)).toEqual([true, false]);
    expect(requests(rule, state, 110 * second, 4).map((d) => d.allowed)).toEqual([true, true, true, false]);
  });

  it("never allows more than burst + elapsed minutes × rate", () => {
    const state = { tat: 0 };
    let allowed = 0;
    for (let ms = 0; ms < 60_000; ms += 7) allowed += requests(rule, state, 100 * second + ms * 1000, 1)[0]!.allowed ? 1 : 0;
    expect(allowed).toBeLessThanOrEqual(3 + 60);
    expect(allowed).toBeGreaterThanOrEqual(60);
  });

  it("never answers Retry-After 0 on a refusal", () => {
    const refused = toDecision(rule, [0, 0, 10, 10]);
    expect(refused.retryAfterSeconds).toBe(1);
  });
});

describe("bucket keys", () => {
  it("are one hash tag each, which no identity can break out of", () => {
    for (const identity of ["user:a}b", "user:{x}", "ip:::1", "user:😀"]) {
      const key = bucketKey("send", identity);
      expect(key).toMatch(/^ratelimit:\{send:[A-Za-z0-9_-]*\}$/);
    }
    expect(bucketKey("send", "user:a")).not.toBe(bucketKey("pull", "user:a"));
    expect(bucketKey("send", "user:a")).not.toBe(bucketKey("send", "ip:a"));
  });
});

describe("MemoryRateLimiter", () => {
  it("keeps one bucket per identity and action", async () => {
    const limiter = new MemoryRateLimiter();
    const one = { perMinute: 1, burst: 1 };
    expect((await limiter.take("send", "user:a", one)).allowed).toBe(true);
    expect((await limiter.take("send", "user:a", one)).allowed).toBe(false);
    expect((await limiter.take("send", "user:b", one)).allowed).toBe(true);
    expect((await limiter.take("pull", "user:a", one)).allowed).toBe(true);
    await limiter.close();
  });
});
