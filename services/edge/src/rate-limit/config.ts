import { envVar, readEnv, redisAccessFrom, redisEnvShape, redisTargetFrom, type RedisAccess, type RedisTarget } from "@chat/runtime";
import type { RateRule } from "./token-bucket.js";

export interface RateLimitConfig {
  /** Rule per action; an action without one is not limited. */
  readonly send: RateRule | undefined;
  readonly pull: RateRule | undefined;
  /** Shared buckets; undefined keeps them in this process. */
  readonly redis: { readonly target: RedisTarget; readonly access: RedisAccess } | undefined;
  /**
   * Proxies in front of the edge that append to X-Forwarded-For (an ingress: 1). With 0 the
   * client address is the connection's peer and X-Forwarded-For is ignored, as anyone can
   * write it.
   */
  readonly trustedProxyHops: number;
  /** How long a request waits on the limiter's Redis before it goes through undecided. */
  readonly timeoutMs: number;
}

export const rateLimitEnvShape = {
  RATE_LIMIT_SEND_PER_MINUTE: envVar
    .integer(0, 0, 1_000_000)
    .describe("sends a minute per user (per client address without authentication), on average; 0 turns the limit off"),
  RATE_LIMIT_PULL_PER_MINUTE: envVar.integer(0, 0, 1_000_000).describe("pulls a minute per user, on average; 0 turns the limit off"),
  RATE_LIMIT_BURST: envVar.integer(0, 0, 1_000_000).describe("requests allowed at once; 0 means the per-minute number"),
  TRUSTED_PROXY_HOPS: envVar
    .integer(0, 0, 10)
    .describe("proxies in front of the edge that append to `X-Forwarded-For` (1 behind an ingress); 0 ignores that header"),
  RATE_LIMIT_TIMEOUT_MS: envVar
    .integer(250, 1, 60_000)
    .describe("longest wait for the limiter's Redis, in milliseconds; a slower answer lets the request through"),
};

const shape = { ...rateLimitEnvShape, ...redisEnvShape };

function rule(perMinute: number, burst: number): RateRule | undefined {
  if (perMinute === 0) return undefined;
  return { perMinute, burst: burst === 0 ? perMinute : Math.min(burst, perMinute) };
}

/** Reads the rate limits; both are off unless RATE_LIMIT_*_PER_MINUTE is set. */
export function loadRateLimitConfig(env: NodeJS.ProcessEnv = process.env): RateLimitConfig {
  const vars = readEnv(shape, env);
  const send = rule(vars.RATE_LIMIT_SEND_PER_MINUTE, vars.RATE_LIMIT_BURST);
  const pull = rule(vars.RATE_LIMIT_PULL_PER_MINUTE, vars.RATE_LIMIT_BURST);
  const limited = send !== undefined || pull !== undefined;
  // The edge connects to Redis only to share buckets; with no limit set it never does.
  const target = limited ? redisTargetFrom(vars) : undefined;
  return {
    send,
    pull,
    redis: target === undefined ? undefined : { target, access: redisAccessFrom(vars) },
    trustedProxyHops: vars.TRUSTED_PROXY_HOPS,
    timeoutMs: vars.RATE_LIMIT_TIMEOUT_MS,
  };
}
