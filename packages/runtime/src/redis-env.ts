import { readFileSync } from "node:fs";
import type { ConnectionOptions } from "node:tls";
import { ConfigError, envVar } from "./env.js";
import { readSecret } from "./secrets.js";

/** Where the Redis data lives: one server, or the seed nodes of a Redis Cluster. */
export type RedisTarget =
  | { readonly kind: "standalone"; readonly url: string }
  | { readonly kind: "cluster"; readonly nodes: readonly { host: string; port: number }[] };

/** How to log in to Redis: ACL user (or the default user), password, and TLS. */
export interface RedisAccess {
  readonly username: string | undefined;
  readonly password: string | undefined;
  /** TLS options for every connection (cluster nodes included); undefined for plain TCP. */
  readonly tls: ConnectionOptions | undefined;
}

/** The Redis variables, with the same names and meaning in every service that uses Redis. */
export const redisEnvShape = {
  REDIS_URL: envVar
    .optionalText()
    .describe("one Redis server, `redis://host:6379/0` or `rediss://…` for TLS; not with REDIS_CLUSTER_NODES"),
  REDIS_CLUSTER_NODES: envVar
    .optionalText()
    .describe("seed nodes of a Redis Cluster, `host:port,host:port,…`; not with REDIS_URL"),
  REDIS_USERNAME: envVar.optionalText().describe("ACL user to log in as (unset: the default user)"),
  REDIS_PASSWORD: envVar
    .optionalText()
    .describe("password of REDIS_USERNAME (or of the default user), so that it stays out of the URL"),
  REDIS_PASSWORD_FILE: envVar
    .optionalText()
    .describe("file holding the password, e.g. a mounted Secret; instead of REDIS_PASSWORD"),
  REDIS_TLS: envVar
    .oneOf(["true", "false"], "false")
    .describe("TLS to every Redis node; implied by a `rediss://` URL, needed for a cluster over TLS"),
  REDIS_TLS_CA_FILE: envVar
    .optionalText()
    .describe("PEM bundle of the CA that signed the servers' certificates (certificates are always verified)"),
};

type RedisVars = {
  REDIS_URL?: string | undefined;
  REDIS_CLUSTER_NODES?: string | undefined;
  REDIS_USERNAME?: string | undefined;
  REDIS_PASSWORD?: string | undefined;
  REDIS_PASSWORD_FILE?: string | undefined;
  REDIS_TLS?: "true" | "false" | undefined;
  REDIS_TLS_CA_FILE?: string | undefined;
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

/** The configured Redis, or undefined when neither REDIS_URL nor REDIS_CLUSTER_NODES is set. */
export function redisTargetFrom(vars: RedisVars): RedisTarget | undefined {
  if (vars.REDIS_URL && vars.REDIS_CLUSTER_NODES) {
    throw new ConfigError(
      "invalid configuration:\n  set either REDIS_URL (one server) or REDIS_CLUSTER_NODES (a cluster), not both",
    );
  }
  if (vars.REDIS_CLUSTER_NODES) return { kind: "cluster", nodes: parseClusterNodes(vars.REDIS_CLUSTER_NODES) };
  if (vars.REDIS_URL) {
    // The value may hold a password: the message names the variable, never the value.
    if (!URL.canParse(vars.REDIS_URL) || !/^rediss?:$/.test(new URL(vars.REDIS_URL).protocol)) {
      throw new ConfigError(
        `invalid configuration:\n  REDIS_URL: must be a URL like redis://host:6379/0 or rediss://host:6380`,
      );
    }
    return { kind: "standalone", url: vars.REDIS_URL };
  }
  return undefined;
}

function tlsFrom(vars: RedisVars): ConnectionOptions | undefined {
  const enabled = vars.REDIS_TLS === "true" || /^rediss:/i.test(vars.REDIS_URL ?? "");
  const caFile = vars.REDIS_TLS_CA_FILE;
  if (!enabled) {
    if (caFile !== undefined) {
      throw new ConfigError(
        "invalid configuration:\n  REDIS_TLS_CA_FILE is set but TLS is off; set REDIS_TLS=true or use a rediss:// URL",
      );
    }
    return undefined;
  }
  if (caFile === undefined) return {};
  try {
    return { ca: readFileSync(caFile) };
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? "unreadable";
    throw new ConfigError(`invalid configuration:\n  REDIS_TLS_CA_FILE=${JSON.stringify(caFile)}: cannot be read (${reason})`);
  }
}

/** Credentials and TLS settings; the password comes from REDIS_PASSWORD or REDIS_PASSWORD_FILE. */
export function redisAccessFrom(vars: RedisVars): RedisAccess {
  return {
    username: vars.REDIS_USERNAME,
    password: readSecret("REDIS_PASSWORD", vars.REDIS_PASSWORD, vars.REDIS_PASSWORD_FILE),
    tls: tlsFrom(vars),
  };
}
