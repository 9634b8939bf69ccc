import type { Logger, RepeatLimitedLog } from "@chat/runtime";
import type { Context, Next } from "koa";
import { Counter, type Registry } from "prom-client";
import type { AuthConfig } from "./auth/config.js";
import { authenticate } from "./auth/authenticate.js";
import { createTokenVerifier } from "./auth/verify-token.js";
import type { RateLimitConfig } from "./rate-limit/config.js";
import { MemoryRateLimiter, type RateLimiter } from "./rate-limit/limiter.js";
import { limitRequests } from "./rate-limit/limit-requests.js";
import { RedisRateLimiter } from "./rate-limit/redis-limiter.js";
import type { ApiAction, Middleware } from "./http/middleware.js";


/** What stands in front of each API action: authentication, then the rate limit. */
export interface Guard {
  readonly before: (action: ApiAction) => Middleware[];
  close(): Promise<void>;
}

/** How the guard reports: startup notes to `logger`, failures that repeat per request to `errorLog`. */
interface GuardLogs {
  readonly logger: Logger;
  readonly errorLog: RepeatLimitedLog;
}

function openLimiter(config: RateLimitConfig, logs: GuardLogs, errors: Counter): RateLimiter {
  if (config.redis === undefined) {
    logs.logger.warn("rate limits: kept in this process (no REDIS_URL or REDIS_CLUSTER_NODES); each replica counts on its own");
    return new MemoryRateLimiter();
  }
  return new RedisRateLimiter({
    ...config.redis,
    commandTimeoutMs: config.timeoutMs,
    onError(error) {
      errors.inc();
      // Fail open: the request goes through.
      logs.errorLog.log("warn", "rate limiter", { err: error }, "rate limiter unavailable; letting requests through");
    },
  });
}

/** The authentication of each action: event streams may carry the token as access_token (EventSource sets no headers). */
function authenticationFor(auth: AuthConfig, logs: GuardLogs): (action: ApiAction) => Middleware[] {
  if (auth.mode === "none") {
    logs.logger.warn("authentication: off (AUTH_MODE=none); anyone may read and send as anyone");
    return () => [];
  }
  const { issuer, audience, algorithms, keys, maxTokenLifetimeSeconds } = auth;
  logs.logger.info({ issuer, audience, algorithms, keys: keys.kind, maxTokenLifetimeSeconds }, "authentication: bearer JWTs");
  const verify = createTokenVerifier(auth);
  const fromHeader = [authenticate(verify, logs.errorLog)];
  const fromHeaderOrQuery = [authenticate(verify, logs.errorLog, { queryParameter: "access_token" })];
  return (action) => (action === "events" ? fromHeaderOrQuery : fromHeader);
}

/** Builds the guard the configuration asks for; with everything off it adds nothing. */
export function createGuard(
  config: { readonly auth: AuthConfig; readonly rateLimit: RateLimitConfig },
  logs: GuardLogs,
  registry: Registry,
): Guard {
  const authentication = authenticationFor(config.auth, logs);
  const rules = { send: config.rateLimit.send, pull: config.rateLimit.pull };
  if (rules.send === undefined && rules.pull === undefined) {
    return { before: authentication, close: async () => {} };
  }
  const decisions = new Counter({
    name: "rate_limit_decisions_total",
    help: "Requests seen by the rate limiter, by action and result: allowed, limited (429), or error (limiter unavailable, let through).",
    labelNames: ["action", "result"],
    registers: [registry],
  });
  const errors = new Counter({
    name: "rate_limit_errors_total",
    help: "Rate limiter calls that failed (its Redis was unavailable); those requests were let through.",
    registers: [registry],
  });
  const limiter = openLimiter(config.rateLimit, logs, errors);
  const options = {
    limiter,
    trustedProxyHops: config.rateLimit.trustedProxyHops,
    onDecision: (action: string, result: string) => decisions.inc({ action, result }),
  };
  const limits = {
    send: rules.send ? [limitRequests("send", rules.send, options)] : [],
    pull: rules.pull ? [limitRequests("pull", rules.pull, options)] : [],
    // Chat lists and read marks go with pulls, so they take pull's rule
    // (RATE_LIMIT_PULL_PER_MINUTE), each in its own bucket: a client that pulls a chat and
    // marks it read is not held to half the rate.
    list: rules.pull ? [limitRequests("list", rules.pull, options)] : [],
    read: rules.pull ? [limitRequests("read", rules.pull, options)] : [],
  };
  // Opening an event stream is a read: it counts against the pull limit.
  const limitsOf = (action: ApiAction) => limits[action === "events" ? "pull" : action];
  return { before: (action) => [...authentication(action), ...limitsOf(action)], close: () => limiter.close() };
}
