import * as http from "node:http";
import type { Duplex } from "node:stream";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport, Http2SessionManager } from "@connectrpc/connect-node";
import type { Interceptor } from "@connectrpc/connect";
import { MessageService } from "@chat/proto";
import { tracingClientInterceptor } from "@chat/runtime";
import { ConnectUnaryClient } from "./connect-unary-client.js";
import { SendBatcher } from "./send-batcher.js";
import { connectionErrorsAsUnavailable } from "./transport-errors.js";
import type { MessageClient, RpcClient } from "./rpc-client.js";


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
    return (super.keepSocketAlive(socket) as unknown as boolean) !== false;
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

/** Clients over one connection pool: one per set of interceptors. */
interface Transport {
  client(interceptors: readonly Interceptor[]): RpcClient;
  close(): void;
}

function http1Transport(options: MessageClientOptions): Transport {
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
    client: (interceptors) => new ConnectUnaryClient(options.baseUrl, agent, interceptors),
    close: () => agent.destroy(),
  };
}

function http2Transport(options: MessageClientOptions): Transport {
  const sessionManager = new Http2SessionManager(options.baseUrl, { idleConnectionTimeoutMs: 30_000 });
  return {
    client: (interceptors) =>
      createClient(
        MessageService,
        createConnectTransport({
          baseUrl: options.baseUrl,
          httpVersion: "2",
          useBinaryFormat: true,
          sessionManager,
          interceptors: [...interceptors, connectionErrorsAsUnavailable()],
        }),
      ),
    close: () => sessionManager.abort(),
  };
}

// Sends of one batch hold at most this many bytes of strings: under the service's 1 MiB limit.
const sendBatchMaxBytes = 512 * 1024;

/**
 * A client for the message service (Connect protocol, binary protobuf) that carries trace
 * context. Sends go in SendBatch calls unless `sendBatchMax` is 1 (see SendBatcher); each
 * still gets its own client span.
 */
export function createMessageClient(options: MessageClientOptions): OpenClient {
  const transport = options.httpVersion === "2" ? http2Transport(options) : http1Transport(options);
  const calls = options.callInterceptors ?? [];
  const traced = transport.client([tracingClientInterceptor(), ...calls]);
  if (options.sendBatchMax <= 1) return { client: traced, close: () => transport.close() };
  // The batcher traces each send itself; the batch call carries no trace of its own.
  const batcher = new SendBatcher(transport.client(calls), [tracingClientInterceptor()], {
    maxItems: options.sendBatchMax,
    maxBytes: sendBatchMaxBytes,
  });
  return {
    client: {
      send: (request, callOptions) => batcher.send(request, callOptions),
      pull: (request, callOptions) => traced.pull(request, callOptions),
      listChats: (request, callOptions) => traced.listChats(request, callOptions),
      markRead: (request, callOptions) => traced.markRead(request, callOptions),
    },
    close: () => transport.close(),
  };
}
