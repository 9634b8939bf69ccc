import { Cluster, Redis, type RedisOptions, type Result } from "ioredis";
import type { RedisAccess, RedisTarget } from "@chat/runtime";
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

/**
 * A Redis client for the limiter: a request must never wait long on it, so commands fail
 * fast while Redis is slow or away, and the limiter lets the request through.
 */
function createClient(target: RedisTarget, access: RedisAccess, commandTimeoutMs: number): Redis | Cluster {
  const common: RedisOptions = {
    username: access.username,
    password: access.password,
    tls: access.tls,
    commandTimeout: commandTimeoutMs,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    connectTimeout: 2_000,
  };
  if (target.kind === "standalone") return new Redis(target.url, common);
  return new Cluster([...target.nodes], { redisOptions: common, enableOfflineQueue: false, slotsRefreshTimeout: 2_000 });
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
  readonly #redis: Redis | Cluster;
  readonly #onError: (error: unknown) => void;

  constructor(options: RedisRateLimiterOptions) {
    this.#redis = createClient(options.target, options.access, options.commandTimeoutMs ?? 250);
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
