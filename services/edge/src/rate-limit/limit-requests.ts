import type { Context, Next } from "koa";
import { ApiError } from "../http/api-error.js";
import type { RateLimiter } from "./limiter.js";
import type { RateDecision, RateRule } from "./token-bucket.js";

/**
 * The client's address: the connection's peer, or, behind `trustedHops` proxies that each
 * append their peer to X-Forwarded-For, the entry the outermost trusted proxy appended.
 * Entries left of it were written by the client and are not believed.
 */
export function clientAddress(ctx: Pick<Context, "get" | "req">, trustedHops: number): string {
  const peer = ctx.req.socket.remoteAddress ?? "unknown";
  if (trustedHops === 0) return peer;
  const forwarded = ctx
    .get("x-forwarded-for")
    .split(",")
    .map((entry) => entry.trim())
    .filter((entry) => entry !== "");
  return forwarded[Math.max(0, forwarded.length - trustedHops)] ?? peer;
}

function headersOf(decision: RateDecision): Record<string, string> {
  return {
    "ratelimit-limit": String(decision.limit),
    "ratelimit-remaining": String(decision.remaining),
    "ratelimit-reset": String(decision.resetSeconds),
  };
}

export interface LimitRequestsOptions {
  readonly limiter: RateLimiter;
  readonly trustedProxyHops: number;
  /** Told the outcome of every request: allowed, limited, or error (went through undecided). */
  readonly onDecision?: (action: string, result: "allowed" | "limited" | "error") => void;
}

/**
 * Middleware that limits one action per authenticated user (`ctx.state.user`), or per
 * client address when authentication is off. Answers RateLimit-Limit, -Remaining and -Reset
 * (IETF httpapi draft names), and 429 with Retry-After over the limit.
 */
export function limitRequests(action: string, rule: RateRule, options: LimitRequestsOptions) {
  return async (ctx: Context, next: Next): Promise<void> => {
    const user = ctx.state.user as string | undefined;
    const identity = user !== undefined ? `user:${user}` : `ip:${clientAddress(ctx, options.trustedProxyHops)}`;
    const decision = await options.limiter.take(action, identity, rule);
    options.onDecision?.(action, decision === undefined ? "error" : decision.allowed ? "allowed" : "limited");
    if (decision === undefined) return next();
    if (!decision.allowed) {
      const wait = decision.retryAfterSeconds;
      throw new ApiError(429, "resource_exhausted", `too many ${action} requests; retry after ${wait} s`, {
        ...headersOf(decision),
        "retry-after": String(wait),
      });
    }
    ctx.set(headersOf(decision));
    await next();
  };
}
