import { createClient, createRouterTransport, type Client } from "@connectrpc/connect";
import { MessageService } from "@chat/proto";
import { pino } from "pino";
import { inject } from "vitest";
import { defaultChatLimits, type ChatLimits } from "../../services/message/src/chat/rules.js";
import { errorInterceptor } from "../../services/message/src/errors.js";
import routes from "../../services/message/src/routes.js";
import { MemoryStore } from "../../services/message/src/store/memory-store.js";
import { createRedisClient, limitRepeats, type RedisTarget } from "@chat/runtime";
import { RedisStore } from "../../services/message/src/store/redis/redis-store.js";
import type { MessageStore } from "../../services/message/src/store/store.js";
import type { Retention } from "../../services/message/src/store/retention.js";

export const engineNames = ["memory", "redis", "redis-cluster"] as const;
export type EngineName = (typeof engineNames)[number];

export const testLimits: ChatLimits = { ...defaultChatLimits, maxPullLimit: 50 };

function redisTarget(engine: Exclude<EngineName, "memory">): RedisTarget {
  if (engine === "redis") return { kind: "standalone", url: inject("redisUrl") };
  const nodes = inject("redisClusterNodes")
    .split(",")
    .map((seed) => ({ host: seed.split(":")[0]!, port: Number(seed.split(":")[1]) }));
  return { kind: "cluster", nodes };
}

export interface EngineOptions {
  readonly retention?: Retention;
}

export function openEngine(engine: EngineName, options: EngineOptions = {}): MessageStore {
  if (engine === "memory") return new MemoryStore(options);
  const client = createRedisClient(
    redisTarget(engine),
    { username: undefined, password: undefined, tls: undefined },
    { commandTimeoutMs: 5_000, connectTimeoutMs: 5_000, maxRetriesPerRequest: 1 },
  );
  return new RedisStore(client, options);
}

/** An in-process MessageService client over the real routes and the given store. */
export function serviceClient(store: MessageStore, options: { requireUser?: boolean } = {}): Client<typeof MessageService> {
  const interceptors = [errorInterceptor(limitRepeats(pino({ level: "silent" }), { intervalMs: 0 }))];
  const transport = createRouterTransport(routes({ store, limits: testLimits, ...options }, interceptors), {
    router: { interceptors },
  });
  return createClient(MessageService, transport);
}
