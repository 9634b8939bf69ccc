import { createRedisClient, limitRepeats, type Logger } from "@chat/runtime";
import { Counter, type Registry } from "prom-client";
import type { MessageServiceConfig } from "./config.js";
import { MemoryStore } from "./store/memory-store.js";
import { guardEvictionPolicy } from "./eviction-guard.js";
import { RedisNotifier } from "./store/redis/redis-notifier.js";
import { RedisStore } from "./store/redis/redis-store.js";
import { memberKeys } from "./store/redis/keys.js";
import type { MessageStore } from "./store/store.js";

/** The storage engine, and a promise that settles if it turns out unsafe after startup. */
export interface Storage {
  readonly store: MessageStore;
  readonly failure: Promise<Error>;
}

/** Builds the storage engine the configuration names, and starts connecting to it. */
export async function openStore(config: MessageServiceConfig, logger: Logger, registry: Registry): Promise<Storage> {
  if (config.storage.kind === "memory") {
    logger.warn(
      "storage: in-memory engine (no REDIS_URL or REDIS_CLUSTER_NODES set); messages are lost on restart and not shared between replicas",
    );
    const store = new MemoryStore({ retention: config.retention, idempotencyWindowSeconds: config.limits.idempotencyTtlSeconds, memberLog: config.memberLog });
    return { store, failure: new Promise(() => {}) };
  }
  const clientOptions = { commandTimeoutMs: config.redisCommandTimeoutMs, connectTimeoutMs: 5_000, maxRetriesPerRequest: 1 };
  const client = createRedisClient(config.storage, config.redisAccess, clientOptions);
  // Live readers' wake-ups come on a connection of their own (subscriber mode runs nothing else).
  const subscriber = createRedisClient(config.storage, config.redisAccess, { ...clientOptions, subscriber: true });
  const errors = new Counter({
    name: "redis_errors_total",
    help: "Redis failures: kind=connection for lost connections, unavailable for commands that failed because Redis could not serve them, command for commands Redis rejected.",
    labelNames: ["kind"],
    registers: [registry],
  });
  const full = new Counter({
    name: "redis_full_rejections_total",
    help: "Sends refused because Redis was full (used memory at maxmemory with maxmemory-policy noeviction); each was answered as retryable Unavailable (HTTP 503). Reads go on working.",
    registers: [registry],
  });
  // Every reconnect attempt fails the same way while Redis is away: log it once per interval.
  const connectionErrors = limitRepeats(logger, { intervalMs: config.logRepeatIntervalMs });
  for (const connection of [client, subscriber]) {
    connection.on("error", (error: Error) => {
      errors.inc({ kind: "connection" });
      connectionErrors.log("warn", "redis connection", { err: error }, "redis connection error");
    });
  }
  logger.info({ engine: config.storage.kind }, "storage: redis");
  const { failure } = await guardEvictionPolicy(client, config.redisAllowEviction, logger);
  const store = new RedisStore(client, {
    waitReplicas: config.redisWaitReplicas,
    waitTimeoutMs: config.redisWaitTimeoutMs,
    timeoutMs: config.redisCommandTimeoutMs,
    retention: config.retention,
    idempotencyWindowSeconds: config.limits.idempotencyTtlSeconds,
    notifier: new RedisNotifier(subscriber),
    memberNotifier: new RedisNotifier(subscriber, (member) => memberKeys(member).wake),
    memberLog: config.memberLog,
    onError: (kind) => (kind === "full" ? full.inc() : errors.inc({ kind })),
  });
  return { store, failure };
}
