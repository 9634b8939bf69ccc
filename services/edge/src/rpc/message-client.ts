import * as http from "node:http";
import type { Duplex } from "node:stream";
import { createClient, type Client, type Transport } from "@connectrpc/connect";
import { createConnectTransport, Http2SessionManager } from "@connectrpc/connect-node";
import { MessageService } from "@chat/proto";
import { tracingClientInterceptor } from "@chat/runtime";
import { connectionErrorsAsUnavailable } from "./transport-errors.js";

export type MessageClient = Client<typeof MessageService>;

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
}

function http1Transport(options: MessageClientOptions): { transport: Transport; close(): void } {
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
  const transport = createConnectTransport({
    baseUrl: options.baseUrl,
    httpVersion: "1.1",
    useBinaryFormat: true,
    nodeOptions: { agent },
    interceptors: [tracingClientInterceptor(), connectionErrorsAsUnavailable()],
  });
  return { transport, close: () => agent.destroy() };
}

function http2Transport(options: MessageClientOptions): { transport: Transport; close(): void } {
  const sessionManager = new Http2SessionManager(options.baseUrl, { idleConnectionTimeoutMs: 30_000 });
  const transport = createConnectTransport({
    baseUrl: options.baseUrl,
    httpVersion: "2",
    useBinaryFormat: true,
    sessionManager,
    interceptors: [tracingClientInterceptor(), connectionErrorsAsUnavailable()],
  });
  return { transport, close: () => sessionManager.abort() };
}

/** A Connect client for the message service (binary protobuf) that carries trace context. */
export function createMessageClient(options: MessageClientOptions): { client: MessageClient; close(): void } {
  const { transport, close } = options.httpVersion === "2" ? http2Transport(options) : http1Transport(options);
  return { client: createClient(MessageService, transport), close };
}
