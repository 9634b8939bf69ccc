import { envVar, readEnv, serviceEnvShape, redisAccessFrom, redisEnvShape, redisTargetFrom } from "@chat/runtime";
import { clientDeadlinesEnvShape, clientDeadlinesFrom } from "@chat/runtime";
import type { EnvSection, LogFormat, LogLevel, RedisAccess, RedisTarget } from "@chat/runtime";
import type { ListenerDeadlines } from "./http/connection-deadlines.js";
import type { ChatLimits } from "./chat/rules.js";
import type { Retention } from "./store/retention.js";
import type { MemberLogRetention } from "./store/members.js";
import type { SubscribeOptions } from "./live/subscribe.js";
import { callerAuthEnvShape, loadCallerAuthConfig, type CallerAuthConfig } from "./auth/config.js";

export interface MessageServiceConfig {
  readonly host: string;
  readonly port: number;
  /** Where messages are kept; "memory" keeps them in this process only. */
  readonly storage: { readonly kind: "memory" } | RedisTarget;
  /** Redis login and TLS settings. */
  readonly redisAccess: RedisAccess;
  /** Refuse calls without an authenticated user from the edge (AUTH_REQUIRE_USER=true). */
  readonly requireUser: boolean;
  /** Proof that a call comes from the edge (SERVICE_AUTH_*); undefined: any caller is believed. */
  readonly callerAuth: CallerAuthConfig | undefined;
  readonly redisCommandTimeoutMs: number;
  /** Replicas that must confirm each write (WAIT) before a send succeeds; 0 = primary only. */
  readonly redisWaitReplicas: number;
  readonly redisWaitTimeoutMs: number;
  /** Run against a Redis whose maxmemory-policy evicts keys (REDIS_ALLOW_EVICTION=true). */
  readonly redisAllowEviction: boolean;
  /** How much of each chat's history is kept. */
  readonly retention: Retention;
  /** How much of each member's event log (their stream of all their chats) is kept. */
  readonly memberLog: MemberLogRetention;
  readonly limits: ChatLimits;
  /** How subscriptions behave (Subscribe). */
  readonly subscribe: SubscribeOptions & { readonly checkIntervalMs: number };
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

const serviceShape = {
  ...serviceEnvShape({ port: 8081, metricsPort: 9465 }),
  AUTH_REQUIRE_USER: envVar
    .oneOf(["true", "false"], "false")
    .describe("`true` refuses calls that carry no user authenticated by the edge (production, with the edge's AUTH_MODE=jwt)"),
  REDIS_COMMAND_TIMEOUT_MS: envVar
    .integer(1_000, 10, 60_000)
    .describe("longest wait for Redis per call, in milliseconds; then the call fails as retryable (503)"),
  REDIS_WAIT_REPLICAS: envVar
    .integer(0, 0, 16)
    .describe("replicas that must confirm each write (`WAIT`) before a send succeeds; 0 trusts the primary alone"),
  REDIS_WAIT_TIMEOUT_MS: envVar
    .integer(500, 1, 60_000)
    .describe("how long a send waits for that confirmation, in milliseconds; then it fails as retryable (503)"),
  REDIS_ALLOW_EVICTION: envVar
    .oneOf(["true", "false"], "false")
    .describe("`true` starts even when Redis's maxmemory-policy evicts keys (anything but noeviction), which can lose acknowledged messages"),
  IDEMPOTENCY_TTL_SECONDS: envVar
    .integer(86_400, 60, 30 * 86_400)
    .describe("how long a client's idempotency key is remembered, in seconds: at least this long, at most twice"),
  RETENTION_MAX_MESSAGES: envVar
    .integer(0, 0, 100_000_000)
    .describe("most messages kept per chat; each send removes the oldest beyond it; 0 keeps all"),
  RETENTION_MAX_AGE_SECONDS: envVar
    .integer(0, 0, 100 * 365 * 86_400)
    .describe("longest a message is kept, in seconds; older ones are not returned and are removed; 0 keeps them"),
  MEMBER_LOG_MAX_EVENTS: envVar
    .integer(1_000, 1, 1_000_000)
    .describe("most events (messages and read receipts) kept in each member's event log, which member streams resume from; a stream that resumes from further back gets a reset"),
  MEMBER_LOG_MAX_AGE_SECONDS: envVar
    .integer(7 * 86_400, 60, 100 * 365 * 86_400)
    .describe("longest an event is kept in a member's event log, in seconds; a member stream that resumes from an older one gets a reset"),
  MAX_TEXT_LENGTH: envVar.integer(4_096, 1, 1_000_000).describe("longest message text, in characters (code points)"),
  MAX_MEMBER_ID_LENGTH: envVar.integer(64, 1, 1_024).describe("longest member id, in characters (code points)"),
  MAX_PULL_LIMIT: envVar.integer(100, 1, 10_000).describe("largest page a pull returns; larger limits are capped to it"),
  MAX_IN_FLIGHT: envVar
    .integer(4_096, 1, 1_000_000)
    .describe("RPCs served at once; more are refused at once as Unavailable"),
  MAX_SUBSCRIBE_CHATS: envVar.integer(100, 1, 1_000).describe("most chats one subscription may watch"),
  SUBSCRIBE_QUEUE_LIMIT: envVar
    .integer(1_000, 10, 1_000_000)
    .describe("events queued for a slow subscriber before its messages are dropped for a reset (lagging)"),
  SUBSCRIBE_HEARTBEAT_MS: envVar.integer(15_000, 100, 600_000).describe("a quiet subscription gets a heartbeat this often, in milliseconds"),
  SUBSCRIBE_CHECK_INTERVAL_MS: envVar
    .integer(5_000, 100, 600_000)
    .describe("how often each watched chat's newest message is checked, which bounds the delay of a lost wake-up, in milliseconds"),
  ...clientDeadlinesEnvShape,
  IDLE_CONNECTION_TIMEOUT_MS: envVar
    .integer(65_000, 100, 3_600_000)
    .describe("an HTTP/1.1 connection between requests, or an HTTP/2 connection without an open stream, is closed after this"),
};

const shape = { ...serviceShape, ...redisEnvShape };

/** Every variable the message service reads, by topic: the source of its generated configuration reference. */
export const messageEnvReference: readonly EnvSection[] = [
  { title: "Message service", shape: serviceShape },
  { title: "Redis (unset: the in-memory engine)", shape: redisEnvShape },
  { title: "Caller authentication (the edge's signed calls)", shape: callerAuthEnvShape },
];

/** Reads the message service's settings from the environment; throws ConfigError on a bad value. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): MessageServiceConfig {
  const vars = readEnv(shape, env);
  return {
    host: vars.HOST,
    port: vars.PORT,
    storage: redisTargetFrom(vars) ?? { kind: "memory" },
    redisAccess: redisAccessFrom(vars),
    requireUser: vars.AUTH_REQUIRE_USER === "true",
    callerAuth: loadCallerAuthConfig(env),
    redisCommandTimeoutMs: vars.REDIS_COMMAND_TIMEOUT_MS,
    redisWaitReplicas: vars.REDIS_WAIT_REPLICAS,
    redisWaitTimeoutMs: vars.REDIS_WAIT_TIMEOUT_MS,
    redisAllowEviction: vars.REDIS_ALLOW_EVICTION === "true",
    retention: { maxMessages: vars.RETENTION_MAX_MESSAGES, maxAgeSeconds: vars.RETENTION_MAX_AGE_SECONDS },
    memberLog: { maxEvents: vars.MEMBER_LOG_MAX_EVENTS, maxAgeSeconds: vars.MEMBER_LOG_MAX_AGE_SECONDS },
    limits: {
      maxTextLength: vars.MAX_TEXT_LENGTH,
      maxMemberIdLength: vars.MAX_MEMBER_ID_LENGTH,
      defaultPullLimit: 10,
      maxPullLimit: vars.MAX_PULL_LIMIT,
      idempotencyTtlSeconds: vars.IDEMPOTENCY_TTL_SECONDS,
      maxSubscribeChats: vars.MAX_SUBSCRIBE_CHATS,
    },
    subscribe: {
      queueLimit: vars.SUBSCRIBE_QUEUE_LIMIT,
      heartbeatMs: vars.SUBSCRIBE_HEARTBEAT_MS,
      checkIntervalMs: vars.SUBSCRIBE_CHECK_INTERVAL_MS,
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
