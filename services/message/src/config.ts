import { envVar, readEnv, serviceEnvShape, redisAccessFrom, redisEnvShape, redisTargetFrom } from "@chat/runtime";
import { clientDeadlinesEnvShape, clientDeadlinesFrom } from "@chat/runtime";
import type { LogFormat, LogLevel, RedisAccess, RedisTarget } from "@chat/runtime";
import type { ListenerDeadlines } from "./http/connection-deadlines.js";
import type { ChatLimits } from "./chat/rules.js";

export interface MessageServiceConfig {
  readonly host: string;
  readonly port: number;
  /** Where messages are kept; "memory" keeps them in this process only. */
  readonly storage: { readonly kind: "memory" } | RedisTarget;
  /** Redis login and TLS settings. */
  readonly redisAccess: RedisAccess;
  /** Refuse calls without an authenticated user from the edge (AUTH_REQUIRE_USER=true). */
  readonly requireUser: boolean;
  readonly redisCommandTimeoutMs: number;
  /** Replicas that must confirm each write (WAIT) before a send succeeds; 0 = primary only. */
  readonly redisWaitReplicas: number;
  readonly redisWaitTimeoutMs: number;
  readonly limits: ChatLimits;
  /** RPCs served at once; more are refused as Unavailable. */
  readonly maxInFlight: number;
  readonly shutdownTimeoutMs: number;
  readonly metricsPort: number;
  readonly logLevel: LogLevel;
  readonly logFormat: LogFormat;
  /** A repeated failure is logged once per this interval and kind; 0 logs each. */
  readonly logRepeatIntervalMs: number;
  /** What a client must send by when, and how long a connection may sit idle. */
  readonly listener: ListenerDeadlines;
}

const shape = {
  ...serviceEnvShape({ port: 8081, metricsPort: 9465 }),
  ...redisEnvShape,
  AUTH_REQUIRE_USER: envVar.oneOf(["true", "false"], "false"),
  REDIS_COMMAND_TIMEOUT_MS: envVar.integer(1_000, 10, 60_000),
  REDIS_WAIT_REPLICAS: envVar.integer(0, 0, 16),
  REDIS_WAIT_TIMEOUT_MS: envVar.integer(500, 1, 60_000),
  IDEMPOTENCY_TTL_SECONDS: envVar.integer(86_400, 60, 30 * 86_400),
  MAX_TEXT_LENGTH: envVar.integer(4_096, 1, 1_000_000),
  MAX_MEMBER_ID_LENGTH: envVar.integer(64, 1, 1_024),
  MAX_PULL_LIMIT: envVar.integer(100, 1, 10_000),
  MAX_IN_FLIGHT: envVar.integer(4_096, 1, 1_000_000),
  ...clientDeadlinesEnvShape,
  IDLE_CONNECTION_TIMEOUT_MS: envVar
    .integer(65_000, 100, 3_600_000)
    .describe("an HTTP/1.1 connection between requests, or an HTTP/2 connection without an open stream, is closed after this"),
};

/** Reads the message service's settings from the environment; throws ConfigError on a bad value. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): MessageServiceConfig {
  const vars = readEnv(shape, env);
  return {
    host: vars.HOST,
    port: vars.PORT,
    storage: redisTargetFrom(vars) ?? { kind: "memory" },
    redisAccess: redisAccessFrom(vars),
    requireUser: vars.AUTH_REQUIRE_USER === "true",
    redisCommandTimeoutMs: vars.REDIS_COMMAND_TIMEOUT_MS,
    redisWaitReplicas: vars.REDIS_WAIT_REPLICAS,
    redisWaitTimeoutMs: vars.REDIS_WAIT_TIMEOUT_MS,
    limits: {
      maxTextLength: vars.MAX_TEXT_LENGTH,
      maxMemberIdLength: vars.MAX_MEMBER_ID_LENGTH,
      maxClientMessageIdLength: 128,
      defaultPullLimit: 10,
      maxPullLimit: vars.MAX_PULL_LIMIT,
      idempotencyTtlSeconds: vars.IDEMPOTENCY_TTL_SECONDS,
    },
    maxInFlight: vars.MAX_IN_FLIGHT,
    shutdownTimeoutMs: vars.SHUTDOWN_TIMEOUT_MS,
    metricsPort: vars.METRICS_PORT,
    logLevel: vars.LOG_LEVEL,
    logFormat: vars.LOG_FORMAT,
    logRepeatIntervalMs: vars.LOG_REPEAT_INTERVAL_MS,
    listener: { ...clientDeadlinesFrom(vars), idleTimeoutMs: vars.IDLE_CONNECTION_TIMEOUT_MS },
  };
}
