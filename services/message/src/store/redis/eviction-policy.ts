import { Cluster, type Redis } from "ioredis";
import type { RedisClient } from "@chat/runtime";

/**
 * What the Redis servers holding the messages do when memory runs out. Only `noeviction`
 * is safe for a message store: every other policy deletes keys (whole chats, or the
 * idempotency records that stop retries from storing copies) without telling anyone.
 */
export type EvictionPolicy =
  | { readonly kind: "safe" }
  | { readonly kind: "evicting"; readonly server: string; readonly policy: string }
  | { readonly kind: "unknown"; readonly reason: string };

const safePolicy = "noeviction";

function serverName(server: Redis): string {
  return `${server.options.host ?? "?"}:${server.options.port ?? "?"}`;
}

async function policyOf(server: Redis): Promise<string> {
  const reply = (await server.config("GET", "maxmemory-policy")) as string[];
  return reply[1] ?? "";
}

// Managed services rename or forbid CONFIG; then the policy cannot be known from here.
const configRefused = /^(ERR unknown command|NOPERM|ERR.*CONFIG.*disabled)/i;

/**
 * Reads maxmemory-policy from the server, or from every master of a cluster. Rejects when
 * Redis cannot be reached; answers "unknown" when it refuses CONFIG.
 */
export async function readEvictionPolicy(redis: RedisClient): Promise<EvictionPolicy> {
  const servers = redis instanceof Cluster ? redis.nodes("master") : [redis];
  for (const server of servers) {
    let policy: string;
    try {
      policy = await policyOf(server);
    } catch (error) {
      if (error instanceof Error && configRefused.test(error.message)) {
        return { kind: "unknown", reason: `CONFIG GET is not allowed on ${serverName(server)} (${error.message})` };
      }
      throw error;
    }
    if (policy !== safePolicy) return { kind: "evicting", server: serverName(server), policy };
  }
  return { kind: "safe" };
}

/** What to tell an operator whose Redis evicts. */
export function evictingPolicyMessage(found: Extract<EvictionPolicy, { kind: "evicting" }>): string {
  return (
    `Redis at ${found.server} runs with maxmemory-policy ${found.policy}: when memory runs out it deletes keys, ` +
    `which loses acknowledged messages and lets retries store copies. Set maxmemory-policy noeviction ` +
    `(redis.conf, or CONFIG SET maxmemory-policy noeviction) on every server, or set REDIS_ALLOW_EVICTION=true ` +
    `to run anyway`
  );
}
