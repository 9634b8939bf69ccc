import { ConfigError, envVar, logFormats, logLevels, readEnv } from "@chat/runtime";
import type { LogFormat, LogLevel } from "@chat/runtime";
import { redisAccessFrom } from "@chat/runtime";
import type { ConnectionOptions } from "node:tls";
import type { ChatLimits } from "./chat/rules.js";
import type { RedisTarget } from "./store/redis/client.js";

export interface MessageServiceConfig {
  readonly host: string;
  readonly port: number;
  /** Where messages are kept; "memory" keeps them in this process only. */
  readonly storage: { readonly kind: "memory" } | RedisTarget;
  readonly redisUsername: string | undefined;
  readonly redisPassword: string | undefined;
  /** TLS options for every Redis connection (rediss:// or REDIS_TLS=true); undefined for plain TCP. */
  readonly redisTls: ConnectionOptions | undefined;
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
}

const shape = {
  HOST: envVar.text("0.0.0.0"),
  PORT: envVar.port(8081),
  REDIS_URL: envVar.optionalText(),
  REDIS_CLUSTER_NODES: envVar.optionalText(),
  REDIS_USERNAME: envVar.optionalText(),
  REDIS_PASSWORD: envVar.optionalText(),
  REDIS_PASSWORD_FILE: envVar.optionalText(),
  REDIS_TLS: envVar.oneOf(["true", "false"], "false"),
  REDIS_TLS_CA_FILE: envVar.optionalText(),
  AUTH_REQUIRE_USER: envVar.oneOf(["true", "false"], "false"),
  REDIS_COMMAND_TIMEOUT_MS: envVar.integer(1_000, 10, 60_000),
  REDIS_WAIT_REPLICAS: envVar.integer(0, 0, 16),
  REDIS_WAIT_TIMEOUT_MS: envVar.integer(500, 1, 60_000),
  IDEMPOTENCY_TTL_SECONDS: envVar.integer(86_400, 60, 30 * 86_400),
  MAX_TEXT_LENGTH: envVar.integer(4_096, 1, 1_000_000),
  MAX_MEMBER_ID_LENGTH: envVar.integer(64, 1, 1_024),
  MAX_PULL_LIMIT: envVar.integer(100, 1, 10_000),
  MAX_IN_FLIGHT: envVar.integer(4_096, 1, 1_000_000),
  SHUTDOWN_TIMEOUT_MS: envVar.integer(10_000, 0, 600_000),
  METRICS_PORT: envVar.port(9465),
  LOG_LEVEL: envVar.oneOf(logLevels, "info"),
  LOG_FORMAT: envVar.oneOf(logFormats, "json"),
};

function parseClusterNodes(list: string): { host: string; port: number }[] {
  return list.split(",").map((entry) => {
    const match = /^\s*([^\s:]+|\[[0-9a-fA-F:]+\]):(\d{1,5})\s*$/.exec(entry);
    const port = Number(match?.[2]);
    if (!match || port < 1 || port > 65_535) {
      throw new ConfigError(
        `invalid configuration:\n  REDIS_CLUSTER_NODES=${JSON.stringify(list)}: ` +
          `must be a comma-separated list of host:port, e.g. "redis-0:6379,redis-1:6379"`,
      );
    }
    return { host: match[1]!.replace(/^\[|\]$/g, ""), port };
  });
}

function storageFrom(env: { REDIS_URL?: string; REDIS_CLUSTER_NODES?: string }) {
  if (env.REDIS_URL && env.REDIS_CLUSTER_NODES) {
    throw new ConfigError(
      "invalid configuration:\n  set either REDIS_URL (one server) or REDIS_CLUSTER_NODES (a cluster), not both",
    );
  }
  if (env.REDIS_CLUSTER_NODES) {
    return { kind: "cluster", nodes: parseClusterNodes(env.REDIS_CLUSTER_NODES) } as const;
  }
  if (env.REDIS_URL) {
    if (!URL.canParse(env.REDIS_URL) || !/^rediss?:$/.test(new URL(env.REDIS_URL).protocol)) {
      throw new ConfigError(
        `invalid configuration:\n  REDIS_URL: must be a URL like redis://host:6379/0 or rediss://host:6380`,
      );
    }
    return { kind: "standalone", url: env.REDIS_URL } as const;
  }
  return { kind: "memory" } as const;
}

/** Reads the message service's settings from the environment; throws ConfigError on a bad value. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): MessageServiceConfig {
  const vars = readEnv(shape, env);
  const redisAccess = redisAccessFrom(vars);
  return {
    host: vars.HOST,
    port: vars.PORT,
    storage: storageFrom(vars),
    redisUsername: vars.REDIS_USERNAME,
    redisPassword: redisAccess.password,
    redisTls: redisAccess.tls,
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
  };
}
