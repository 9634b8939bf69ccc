import { ConfigError, type Logger, type RedisClient } from "@chat/runtime";
import { evictingPolicyMessage, readEvictionPolicy } from "./store/redis/eviction-policy.js";

// How long startup waits for Redis to answer before it goes on and checks once Redis does.
const startupCheckMs = 3_000;

function readyWithin(client: RedisClient, ms: number): Promise<boolean> {
  if (client.status === "ready") return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => finish(false), ms);
    const onReady = () => finish(true);
    const finish = (ready: boolean) => {
      clearTimeout(timer);
      client.off("ready", onReady);
      resolve(ready);
    };
    client.once("ready", onReady);
  });
}

/**
 * Refuses an evicting Redis (see eviction-policy.ts): at startup by throwing (the service
 * exits 1 with the reason), later (a failover, a reconfigured server) by settling the
 * returned promise. Checked at startup and whenever the client (re)connects.
 */
export async function guardEvictionPolicy(
  client: RedisClient,
  allowEviction: boolean,
  logger: Logger,
): Promise<{ readonly failure: Promise<Error> }> {
  let warnedUnknown = false;
  let reportFailure: (error: Error) => void = () => {};
  const failure = new Promise<Error>((resolve) => (reportFailure = resolve));
  const check = async (): Promise<Error | undefined> => {
    const policy = await readEvictionPolicy(client);
    if (policy.kind === "unknown" && !warnedUnknown) {
      warnedUnknown = true;
      logger.warn(`cannot check Redis's maxmemory-policy: ${policy.reason}; make sure it is noeviction`);
    }
    if (policy.kind !== "evicting") return undefined;
    if (!allowEviction) return new ConfigError(evictingPolicyMessage(policy));
    logger.warn({ server: policy.server, policy: policy.policy }, "Redis may evict messages (REDIS_ALLOW_EVICTION=true)");
    return undefined;
  };
  const checkLater = () =>
    check().then(
      (unsafe) => unsafe && reportFailure(unsafe),
      (error: unknown) => logger.warn({ err: error }, "could not check Redis's maxmemory-policy; will check on the next connection"),
    );
  if (await readyWithin(client, startupCheckMs)) {
    const unsafe = await check().catch((error: unknown) => {
      logger.warn({ err: error }, "could not check Redis's maxmemory-policy; will check on the next connection");
      return undefined;
    });
    if (unsafe) {
      client.disconnect();
      throw unsafe;
    }
  } else {
    logger.warn("Redis does not answer yet; its maxmemory-policy will be checked once it does");
  }
  client.on("ready", () => void checkLater());
  return { failure };
}
