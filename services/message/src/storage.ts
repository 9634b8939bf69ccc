import { createRedisClient, limitRepeats, type Logger } from "@chat/runtime";
import { Counter, type Registry } from "prom-client";
import type { MessageServiceConfig } from "./config.js";
import { MemoryStore } from "./store/memory-store.js";
import { RedisStore } from "./store/redis/redis-store.js";
import type { MessageStore } from "./store/store.js";

/** Builds the storage engine the configuration names, and starts connecting to it. */
export function openStore(config: MessageServiceConfig, logger: Logger, registry: Registry): MessageStore {
  if (config.storage.kind === "memory") {
    logger.warn(
      "storage: in-memory engine (no REDIS_URL or REDIS_CLUSTER_NODES set); messages are lost on restart and not shared between replicas",
    );
    return new MemoryStore();
  }
  const client = createRedisClient(
    config.storage,
    config.redisAccess,
    { commandTimeoutMs: config.redisCommandTimeoutMs, connectTimeoutMs: 5_000, maxRetriesPerRequest: 1 },
  );
  const errors = new Counter({
    name: "redis_errors_total",
    help: "Redis failures: kind=connection for lost connections, unavailable for commands that failed because Redis could not serve them, command for commands Redis rejected.",
    labelNames: ["kind"],
    registers: [registry],
  });
  // Every reconnect attempt fails the same way while Redis is away: log it once per interval.
  const connectionErrors = limitRepeats(logger, { intervalMs: config.logRepeatIntervalMs });
  client.on("error", (error: Error) => {
    errors.inc({ kind: "connection" });
    connectionErrors.log("warn", "redis connection", { err: error }, "redis connection error");
  });
  logger.info({ engine: config.storage.kind }, "storage: redis");
  return new RedisStore(client, {
    waitReplicas: config.redisWaitReplicas,
    waitTimeoutMs: config.redisWaitTimeoutMs,
    timeoutMs: config.redisCommandTimeoutMs,
    onError: (kind) => errors.inc({ kind }),
  });
}
