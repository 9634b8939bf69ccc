import * as http from "node:http";
import { createClient, createRouterTransport, type Client } from "@connectrpc/connect";
import { MessageService } from "@chat/proto";
import { pino } from "pino";
import { inject } from "vitest";
import { defaultChatLimits, type ChatLimits } from "../../services/message/src/chat/rules.js";
import { errorInterceptor } from "../../services/message/src/errors.js";
import routes from "../../services/message/src/routes.js";
import { MemoryStore } from "../../services/message/src/store/memory-store.js";
import { createRedisClient, limitRepeats, listen, type RedisTarget } from "@chat/runtime";
import { connectAdapter } from "../../services/message/src/http/connect-adapter.js";
import { createNodeHttp1Transport } from "../../services/edge/src/rpc/http1-transport.js";
import { RedisStore } from "../../services/message/src/store/redis/redis-store.js";
import { RedisNotifier } from "../../services/message/src/store/redis/redis-notifier.js";
import { LiveHub } from "../../services/message/src/live/live-hub.js";
import type { SubscribeOptions } from "../../services/message/src/live/subscribe.js";
import type { MessageStore } from "../../services/message/src/store/store.js";
import type { Retention } from "../../services/message/src/store/retention.js";
import type { MemberLogRetention } from "../../services/message/src/store/members.js";
import type { MicrosecondClock } from "../../services/message/src/store/clock.js";
import { memberKeys } from "../../services/message/src/store/redis/keys.js";

export const engineNames = ["memory", "redis", "redis-cluster"] as const;
export type EngineName = (typeof engineNames)[number];

export const testLimits: ChatLimits = { ...defaultChatLimits, maxPullLimit: 50 };

/** Where the harness's Redis (or Redis Cluster) for an engine listens. */
export function redisTarget(engine: Exclude<EngineName, "memory">): RedisTarget {
  if (engine === "redis") return { kind: "standalone", url: inject("redisUrl") };
  const nodes = inject("redisClusterNodes")
    .split(",")
    .map((seed) => ({ host: seed.split(":")[0]!, port: Number(seed.split(":")[1]) }));
  return { kind: "cluster", nodes };
}

export interface EngineOptions {
  readonly retention?: Retention;
  readonly memberLog?: MemberLogRetention;
  /** The memory engine's clock (to skew chats' clocks); Redis engines use the server's. */
  readonly clock?: MicrosecondClock;
}

export function openEngine(engine: EngineName, options: EngineOptions = {}): MessageStore {
  if (engine === "memory") return new MemoryStore(options);
  const access = { username: undefined, password: undefined, tls: undefined };
  const clientOptions = { commandTimeoutMs: 5_000, connectTimeoutMs: 5_000, maxRetriesPerRequest: 1 };
  const client = createRedisClient(redisTarget(engine), access, clientOptions);
  const subscriber = createRedisClient(redisTarget(engine), access, { ...clientOptions, subscriber: true });
  const notifier = new RedisNotifier(subscriber);
  const memberNotifier = new RedisNotifier(subscriber, (member) => memberKeys(member).wake);
  return new RedisStore(client, { ...options, notifier, memberNotifier });
}

/** A client of the message service; close() also stops what serves it. */
export type Service = Client<typeof MessageService> & { close(): void };

export interface ServiceClientOptions {
  readonly requireUser?: boolean;
  /** Subscription settings; small defaults suit tests. */
  readonly subscribe?: Partial<SubscribeOptions & { checkIntervalMs: number }>;
  /**
   * "in-process" calls the routes through Connect's router transport instead of a socket:
   * for tests of a reader that does not read, which sockets' buffers would hide.
   */
  readonly over?: "http" | "in-process";
}

/**
 * A MessageService client over the real hop and the given store: the service's Connect
 * adapter and routes on a loopback HTTP server in this process, with a hub of chat feeds of
 * its own (as one replica has), called through the edge's own HTTP/1.1 Connect transport.
 * Closed with close().
 */
export async function serviceClient(store: MessageStore, options: ServiceClientOptions = {}): Promise<Service> {
  const interceptors = [errorInterceptor(limitRepeats(pino({ level: "silent" }), { intervalMs: 0 }))];
  const subscribe = { queueLimit: 1_000, heartbeatMs: 15_000, checkIntervalMs: 1_000, ...options.subscribe };
  const feedOptions = { readBatch: 500, checkIntervalMs: subscribe.checkIntervalMs, lingerMs: 1_000, onError: () => {} };
  const hub = new LiveHub(store, feedOptions);
  const members = new LiveHub(store.members.log, feedOptions);
  const live = { hub, members, options: subscribe };
  const serve = routes({ store, limits: testLimits, requireUser: options.requireUser, live }, interceptors);
  const closeHubs = () => {
    hub.close();
    members.close();
  };
  if (options.over === "in-process") {
    const transport = createRouterTransport(serve, { router: { interceptors } });
    return Object.assign(createClient(MessageService, transport), { close: closeHubs });
  }
  const server = http.createServer(
    connectAdapter({
      routes: serve,
      interceptors,
      readMaxBytes: 1024 * 1024,
      fallback: (_request, response) => {
        response.writeHead(404);
        response.end();
      },
      onError: () => {},
    }),
  );
  const url = await listen(server, 0, "127.0.0.1");
  const agent = new http.Agent({ keepAlive: true });
  return Object.assign(createClient(MessageService, createNodeHttp1Transport({ baseUrl: url, agent, interceptors: [] })), {
    close: () => {
      closeHubs();
      agent.destroy();
      server.closeAllConnections();
      server.close();
    },
  });
}
