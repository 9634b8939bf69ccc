import type { Result } from "ioredis";
import { createRedisClient, type RedisAccess, type RedisClient, type RedisTarget } from "@chat/runtime";
import type { RateLimiter } from "./limiter.js";
import { bucketKey } from "./keys.js";
import { takeTokenScript } from "./take-token.js";
import { intervalMicros, toDecision, type RateDecision, type RateRule } from "./token-bucket.js";

type TakeReply = [allowed: number, remaining: number, retryAfterMicros: number, resetMicros: number];

declare module "ioredis" {
  interface RedisCommander<Context> {
    rateLimitTake(key: string, intervalMicros: number, burst: number): Result<TakeReply, Context>;
  }
}

export interface RedisRateLimiterOptions {
  readonly target: RedisTarget;
  readonly access: RedisAccess;
  readonly commandTimeoutMs?: number;
  /** Called when a decision could not be made (the request went through). */
  readonly onError: (error: unknown) => void;
}

/** Buckets in Redis, shared by every edge replica: one key and one script call per request. */
export class RedisRateLimiter implements RateLimiter {
  readonly #redis: RedisClient;
  readonly #onError: (error: unknown) => void;

  constructor(options: RedisRateLimiterOptions) {
    // A request must never wait long on the limiter: no retries, a short timeout, and on
    // failure the request goes through.
    this.#redis = createRedisClient(options.target, options.access, {
      commandTimeoutMs: options.commandTimeoutMs ?? 250,
      connectTimeoutMs: 2_000,
      maxRetriesPerRequest: 0,
    });
    this.#onError = options.onError;
    this.#redis.defineCommand("rateLimitTake", { numberOfKeys: 1, lua: takeTokenScript });
    // Connection errors surface as failed takes; the client reconnects by itself.
    this.#redis.on("error", () => {});
  }

  async take(action: string, identity: string, rule: RateRule): Promise<RateDecision | undefined> {
    try {
      const reply = await this.#redis.rateLimitTake(bucketKey(action, identity), intervalMicros(rule), rule.burst);
      return toDecision(rule, reply);
    } catch (error) {
      this.#onError(error);
      return undefined;
    }
  }

  async close(): Promise<void> {
    if (this.#redis.status !== "ready") return this.#redis.disconnect();
    await this.#redis.quit().catch(() => this.#redis.disconnect());
  }
}
