import * as http from "node:http";
import type { Duplex } from "node:stream";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport, Http2SessionManager } from "@connectrpc/connect-node";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { MessageService, type PullRequestSchema, type PullResponse, type SendRequestSchema, type SendResponse } from "@chat/proto";
import { tracingClientInterceptor } from "@chat/runtime";
import { ConnectUnaryClient } from "./connect-unary-client.js";
import { connectionErrorsAsUnavailable } from "./transport-errors.js";

/** Options of one call: its deadline, and headers to send (the authenticated user). */
export interface CallOptions {
  readonly timeoutMs: number;
  readonly headers?: Record<string, string> | undefined;
}

/** The message service as the edge calls it; a Connect client fits, and so does ConnectUnaryClient. */
export interface MessageClient {
  send(request: MessageInitShape<typeof SendRequestSchema>, options: CallOptions): Promise<SendResponse>;
  pull(request: MessageInitShape<typeof PullRequestSchema>, options: CallOptions): Promise<PullResponse>;
}

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

interface OpenClient {
  readonly client: MessageClient;
  close(): void;
}

function http1Client(options: MessageClientOptions): OpenClient {
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
  const client = new ConnectUnaryClient(options.baseUrl, agent, [tracingClientInterceptor()]);
  return { client, close: () => agent.destroy() };
}

function http2Client(options: MessageClientOptions): OpenClient {
  const sessionManager = new Http2SessionManager(options.baseUrl, { idleConnectionTimeoutMs: 30_000 });
  const transport = createConnectTransport({
    baseUrl: options.baseUrl,
    httpVersion: "2",
    useBinaryFormat: true,
    sessionManager,
    interceptors: [tracingClientInterceptor(), connectionErrorsAsUnavailable()],
  });
  return { client: createClient(MessageService, transport), close: () => sessionManager.abort() };
}

/** A client for the message service (Connect protocol, binary protobuf) that carries trace context. */
export function createMessageClient(options: MessageClientOptions): OpenClient {
  return options.httpVersion === "2" ? http2Client(options) : http1Client(options);
}
