import * as http from "node:http";
import type { Duplex } from "node:stream";
import { createClient, type Client, type Interceptor, type Transport } from "@connectrpc/connect";
import { createConnectTransport, Http2SessionManager } from "@connectrpc/connect-node";
import { MessageService } from "@chat/proto";
import { tracingClientInterceptor } from "@chat/runtime";
import { createNodeHttp1Transport } from "./http1-transport.js";
import { SendBatcher } from "./send-batcher.js";
import { connectionErrorsAsUnavailable } from "./transport-errors.js";
import type { MessageClient } from "./rpc-client.js";

/**
 * Keep-alive agent whose connections retire after a maximum age. Over HTTP/1.1 every
 * concurrent call holds its own connection, and a Kubernetes Service balances connections,
 * so calls spread over the replicas; retiring old connections lets replicas added later
 * (scale-out, rollouts) take their share.
 */
class RetiringAgent extends http.Agent {
  readonly #firstUse = new WeakMap<Duplex, number>();
  readonly #maxAgeMs: number;

  constructor(options: http.AgentOptions, maxAgeMs: number) {
    super(options);
    this.#maxAgeMs = maxAgeMs;
  }

  override keepSocketAlive(socket: Duplex): boolean {
    const now = Date.now();
    const firstUse = this.#firstUse.get(socket) ?? now;
    this.#firstUse.set(socket, firstUse);
    if (now - firstUse > this.#maxAgeMs) return false;
    // @types/node says void; Node returns whether the socket stays in the pool.
    const kept: unknown = super.keepSocketAlive(socket);
    return kept !== false;
  }
}

export interface MessageClientOptions {
  readonly baseUrl: string;
  readonly httpVersion: "1.1" | "2";
  readonly maxSockets: number;
  readonly connectionMaxAgeMs: number;
  /** Most sends per SendBatch call; 1 sends each message in a Send call of its own. */
  readonly sendBatchMax: number;
  /** Interceptors of every call to the service, SendBatch calls included (the edge's credential). */
  readonly callInterceptors?: readonly Interceptor[];
}

interface OpenClient {
  readonly client: MessageClient;
  close(): void;
}

/** Connect transports over one connection pool: one per set of interceptors. */
interface Connections {
  transport(interceptors: readonly Interceptor[]): Transport;
  close(): void;
}

/** Connect's own Connect-protocol transport over HTTP/1.1 keep-alive connections (see nodeHttp1Client). */
function http1Connections(options: MessageClientOptions): Connections {
  const agent = new RetiringAgent(
    {
      keepAlive: true,
      maxSockets: options.maxSockets,
      // Idle sockets close well before the service's 65 s keep-alive timeout closes them.
      timeout: 30_000,
      // Rotate through pooled connections so calls spread over every replica they reach.
      scheduling: "fifo",
    },
    options.connectionMaxAgeMs,
  );
  return {
    transport: (interceptors) => createNodeHttp1Transport({ baseUrl: options.baseUrl, agent, interceptors }),
    close: () => agent.destroy(),
  };
}

/** connect-node's transport over one multiplexed HTTP/2 connection. */
function http2Connections(options: MessageClientOptions): Connections {
  const sessionManager = new Http2SessionManager(options.baseUrl, { idleConnectionTimeoutMs: 30_000 });
  return {
    transport: (interceptors) =>
      createConnectTransport({
        baseUrl: options.baseUrl,
        httpVersion: "2",
        useBinaryFormat: true,
        sessionManager,
        interceptors: [...interceptors, connectionErrorsAsUnavailable()],
      }),
    close: () => sessionManager.abort(),
  };
}

// Sends of one batch hold at most this many bytes of strings: under the service's 1 MiB limit.
const sendBatchMaxBytes = 512 * 1024;

/**
 * A Connect client of the message service (Connect protocol, binary protobuf) whose calls
 * carry trace context. Sends go in SendBatch calls unless `sendBatchMax` is 1 (see
 * SendBatcher); each still gets its own client span.
 */
export function createMessageClient(options: MessageClientOptions): OpenClient {
  const connections = options.httpVersion === "2" ? http2Connections(options) : http1Connections(options);
  const calls = options.callInterceptors ?? [];
  const traced: Client<typeof MessageService> = createClient(MessageService, connections.transport([tracingClientInterceptor(), ...calls]));
  if (options.sendBatchMax <= 1) return { client: traced, close: () => connections.close() };
  // The batcher traces each send itself; the batch call carries no trace of its own.
  const batcher = new SendBatcher(createClient(MessageService, connections.transport(calls)), [tracingClientInterceptor()], {
    maxItems: options.sendBatchMax,
    maxBytes: sendBatchMaxBytes,
    baseUrl: options.baseUrl,
  });
  return {
    client: {
      send: (request, callOptions) => batcher.send(request, callOptions),
      pull: traced.pull,
      listChats: traced.listChats,
      markRead: traced.markRead,
    },
    close: () => connections.close(),
  };
}
