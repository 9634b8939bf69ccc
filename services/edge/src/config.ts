import type { RetryPolicy } from "./rpc/retry.js";
import { loadAuthConfig, type AuthConfig, authEnvShape } from "./auth/config.js";
import { loadRateLimitConfig, type RateLimitConfig, rateLimitEnvShape } from "./rate-limit/config.js";
import { loadServiceCredentialConfig, serviceCredentialEnvShape, type ServiceCredentialConfig } from "./rpc/credential-config.js";
import { loadWebConfig, webEnvShape, type WebConfig } from "./web/config.js";
import {
  clientDeadlinesEnvShape,
  clientDeadlinesFrom,
  envVar,
  readEnv,
  redisEnvShape,
  serviceEnvShape,
  type ClientDeadlines,
  type EnvSection,
  type LogFormat,
  type LogLevel,
} from "@chat/runtime";

export interface EdgeConfig {
  readonly host: string;
  readonly port: number;
  /** Base URL of the message service (a Kubernetes Service, or one replica). */
  readonly messageServiceUrl: string;
  /**
   * HTTP version of calls to the message service. "1.1" spreads calls over replicas behind a
   * Kubernetes Service; "2" multiplexes them over one connection (one replica per edge pod).
   */
  readonly rpcHttpVersion: "1.1" | "2";
  /** Attempts, deadlines and pauses of calls to the message service. */
  readonly retry: RetryPolicy;
  /** Requests served at once; more are refused with 503 instead of queueing without bound. */
  readonly maxInFlight: number;
  /** Most connections open to the message service at once. */
  readonly rpcMaxSockets: number;
  /** Keep-alive connections older than this are retired, so new service replicas get traffic. */
  readonly rpcConnectionMaxAgeMs: number;
  /** Most sends coalesced into one SendBatch call; 1 makes each send a Send call of its own. */
  readonly rpcSendBatchMax: number;
  /** Largest request body accepted, in bytes. */
  readonly maxBodyBytes: number;
  /** Largest request head (request line and headers); Node answers 431 above it. */
  readonly maxHeaderBytes: number;
  /** Most query parameters a request may carry. */
  readonly maxQueryParams: number;
  /** Server-Sent Events (GET /api/events). */
  readonly events: {
    readonly heartbeatMs: number;
    readonly retryMs: number;
    readonly queueLimit: number;
    readonly maxStreams: number;
    readonly maxChats: number;
  };
  /** How long a client may take to send its request headers and its whole request. */
  readonly clientDeadlines: ClientDeadlines;
  /** Bearer-token authentication (AUTH_*). */
  readonly auth: AuthConfig;
  /** The key that signs calls to the message service (SERVICE_AUTH_KEY*); undefined: calls carry no credential. */
  readonly serviceCredential: ServiceCredentialConfig | undefined;
  /** Per-user (or per-address) rate limits (RATE_LIMIT_*). */
  readonly rateLimit: RateLimitConfig;
  /** The browser client served at `/` (WEB_*). */
  readonly web: WebConfig;
  readonly shutdownTimeoutMs: number;
  readonly metricsPort: number;
  readonly logLevel: LogLevel;
  readonly logFormat: LogFormat;
  /** A repeated failure is logged once per this interval and kind; 0 logs each. */
  readonly logRepeatIntervalMs: number;
}

const shape = {
  ...serviceEnvShape({ port: 8080, metricsPort: 9464 }),
  ...clientDeadlinesEnvShape,
  MESSAGE_SERVICE_URL: envVar.url("http://127.0.0.1:8081", ["http:"]).describe("base URL of the message service"),
  RPC_HTTP_VERSION: envVar
    .oneOf(["1.1", "2"], "1.1")
    .describe("`1.1` spreads calls over service replicas behind a plain Service; `2` multiplexes one connection, pinning an edge pod to one replica"),
  RPC_TIMEOUT_MS: envVar
    .integer(5_000, 10, 120_000)
    .describe("deadline of one call to the message service, retries included, in milliseconds"),
  RPC_ATTEMPT_TIMEOUT_MS: envVar
    .integer(2_000, 10, 120_000)
    .describe("deadline of one attempt, in milliseconds (at most RPC_TIMEOUT_MS); a timed-out attempt is retried"),
  RPC_RETRY_ATTEMPTS: envVar
    .integer(3, 1, 10)
    .describe("attempts per call; 1 turns retries, and the idempotency keys the edge makes for them, off"),
  RPC_RETRY_BACKOFF_MS: envVar
    .integer(25, 1, 10_000)
    .describe("base of the jittered exponential pause between attempts, in milliseconds"),
  MAX_IN_FLIGHT: envVar
    .integer(2_048, 1, 1_000_000)
    .describe("requests served at once; more are answered 503 at once instead of queueing"),
  RPC_MAX_SOCKETS: envVar.integer(256, 1, 65_536).describe("most connections open to the message service"),
  RPC_CONNECTION_MAX_AGE_MS: envVar
    .integer(30_000, 100, 3_600_000)
    .describe("age after which a pooled connection to the message service retires, so new replicas get traffic, in milliseconds"),
  RPC_SEND_BATCH_MAX: envVar
    .integer(64, 1, 500)
    .describe("most sends coalesced into one SendBatch call; 1 sends each in a Send call of its own"),
  MAX_BODY_BYTES: envVar
    .integer(64 * 1024, 256, 16 * 1024 * 1024)
    .describe("largest request body, in bytes; a larger one is answered 413 and the connection closed"),
  MAX_HEADER_BYTES: envVar
    .integer(16 * 1024, 1024, 1024 * 1024)
    .describe("largest request line and headers, in bytes; larger are answered 431"),
  MAX_QUERY_PARAMS: envVar.integer(16, 1, 1_000).describe("most query parameters a request may carry; more are answered 400"),
  SSE_HEARTBEAT_MS: envVar
    .integer(15_000, 1_000, 300_000)
    .describe("an event stream with nothing to send gets a comment line this often, in milliseconds"),
  SSE_RETRY_MS: envVar
    .integer(2_000, 100, 60_000)
    .describe("reconnection delay suggested to event-stream clients (the retry: field), in milliseconds"),
  SSE_QUEUE_LIMIT: envVar
    .integer(1_000, 10, 1_000_000)
    .describe("events queued for an event-stream client that reads too slowly before its messages are dropped for a reset (lagging)"),
  MAX_STREAMS: envVar.integer(10_000, 1, 1_000_000).describe("event streams one edge process holds at once; more are refused with 503"),
  MAX_SUBSCRIBE_CHATS: envVar
    .integer(100, 1, 1_000)
    .describe("most chats one event stream may watch (the message service has the same limit)"),
};

/** Every variable the edge reads, by topic: the source of its generated configuration reference. */
export const edgeEnvReference: readonly EnvSection[] = [
  { title: "Edge", shape },
  { title: "Authentication", shape: authEnvShape },
  { title: "Rate limits", shape: rateLimitEnvShape },
  { title: "The edge's credential towards the message service", shape: serviceCredentialEnvShape },
  { title: "Redis for shared rate limits (read only while a limit is set)", shape: redisEnvShape },
  { title: "Web client", shape: webEnvShape },
];

/** Reads the edge's settings from the environment; throws ConfigError on a bad value. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): EdgeConfig {
  const vars = readEnv(shape, env);
  return {
    host: vars.HOST,
    port: vars.PORT,
    messageServiceUrl: vars.MESSAGE_SERVICE_URL,
    rpcHttpVersion: vars.RPC_HTTP_VERSION,
    retry: {
      attempts: vars.RPC_RETRY_ATTEMPTS,
      attemptTimeoutMs: Math.min(vars.RPC_ATTEMPT_TIMEOUT_MS, vars.RPC_TIMEOUT_MS),
      deadlineMs: vars.RPC_TIMEOUT_MS,
      backoffMs: vars.RPC_RETRY_BACKOFF_MS,
    },
    maxInFlight: vars.MAX_IN_FLIGHT,
    rpcMaxSockets: vars.RPC_MAX_SOCKETS,
    rpcConnectionMaxAgeMs: vars.RPC_CONNECTION_MAX_AGE_MS,
    rpcSendBatchMax: vars.RPC_SEND_BATCH_MAX,
    maxBodyBytes: vars.MAX_BODY_BYTES,
    maxHeaderBytes: vars.MAX_HEADER_BYTES,
    maxQueryParams: vars.MAX_QUERY_PARAMS,
    events: {
      heartbeatMs: vars.SSE_HEARTBEAT_MS,
      retryMs: vars.SSE_RETRY_MS,
      queueLimit: vars.SSE_QUEUE_LIMIT,
      maxStreams: vars.MAX_STREAMS,
      maxChats: vars.MAX_SUBSCRIBE_CHATS,
    },
    clientDeadlines: clientDeadlinesFrom(vars),
    auth: loadAuthConfig(env),
    serviceCredential: loadServiceCredentialConfig(env),
    rateLimit: loadRateLimitConfig(env),
    web: loadWebConfig(env),
    shutdownTimeoutMs: vars.SHUTDOWN_TIMEOUT_MS,
    metricsPort: vars.METRICS_PORT,
    logLevel: vars.LOG_LEVEL,
    logFormat: vars.LOG_FORMAT,
    logRepeatIntervalMs: vars.LOG_REPEAT_INTERVAL_MS,
  };
}
