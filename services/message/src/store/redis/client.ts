import type { ConnectionOptions } from "node:tls";
import type { RedisTarget } from "@chat/runtime";
import { Cluster, Redis, type RedisOptions } from "ioredis";

export interface RedisClientOptions {
  readonly username: string | undefined;
  readonly password: string | undefined;
  /** TLS for every connection, cluster nodes included; undefined for plain TCP (or rediss:// defaults). */
  readonly tls?: ConnectionOptions | undefined;
  /** A command that gets no reply within this time fails instead of waiting. */
  readonly commandTimeoutMs: number;
}

export type RedisClient = Redis | Cluster;

/**
 * Creates an ioredis client that starts connecting at once, fails commands quickly while
 * Redis is unreachable instead of queueing them, and keeps reconnecting in the background.
 */
export function createRedisClient(target: RedisTarget, options: RedisClientOptions): RedisClient {
  const common: RedisOptions = {
    username: options.username,
    password: options.password,
    tls: options.tls,
    commandTimeout: options.commandTimeoutMs,
    // While disconnected, fail at once (the caller gets a retryable 503) instead of queueing.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 5_000,
  };
  if (target.kind === "standalone") return new Redis(target.url, common);
  return new Cluster([...target.nodes], {
    redisOptions: common,
    enableOfflineQueue: false,
    retryDelayOnFailover: 100,
    retryDelayOnClusterDown: 100,
    retryDelayOnTryAgain: 100,
    slotsRefreshTimeout: 2_000,
  });
}
