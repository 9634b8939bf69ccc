import { Cluster, Redis, type RedisOptions } from "ioredis";
import type { RedisAccess, RedisTarget } from "./redis-env.js";

export type RedisClient = Redis | Cluster;

export interface RedisClientOptions {
  /** A command that gets no reply within this time fails instead of waiting. */
  readonly commandTimeoutMs: number;
  readonly connectTimeoutMs: number;
  /** Reconnections a command may wait through before it fails. */
  readonly maxRetriesPerRequest: number;
  /** For a connection that only subscribes: on a cluster, one sharded subscriber per shard. */
  readonly subscriber?: boolean;
}

/**
 * An ioredis client for a standalone server or a cluster that starts connecting at once,
 * fails commands quickly while Redis is unreachable instead of queueing them, and keeps
 * reconnecting in the background.
 */
export function createRedisClient(target: RedisTarget, access: RedisAccess, options: RedisClientOptions): RedisClient {
  const common: RedisOptions = {
    username: access.username,
    password: access.password,
    tls: access.tls,
    commandTimeout: options.commandTimeoutMs,
    connectTimeout: options.connectTimeoutMs,
    maxRetriesPerRequest: options.maxRetriesPerRequest,
    // While disconnected, fail at once (the caller answers a retryable error) instead of queueing.
    enableOfflineQueue: false,
  };
  if (target.kind === "standalone") return new Redis(target.url, common);
  return new Cluster([...target.nodes], {
    redisOptions: common,
    enableOfflineQueue: false,
    retryDelayOnFailover: 100,
    retryDelayOnClusterDown: 100,
    retryDelayOnTryAgain: 100,
    slotsRefreshTimeout: 2_000,
    // After a failover the client learns the new master from its next slot refresh: every
    // second instead of every five bounds how long its commands (and wake-ups) miss it.
    slotsRefreshInterval: 1_000,
    shardedSubscribers: options.subscriber ?? false,
  });
}
