import { context, ROOT_CONTEXT } from "@opentelemetry/api";
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import {
  MessageService,
  sendBatchItemContext,
  sendBatchItemHeaders,
  SendRequestSchema,
  type SendBatchItemSchema,
  type SendResponse,
} from "@chat/proto";
import { CallHeaders, intercept, unaryRequest, type UnaryCall } from "@chat/runtime";
import type { CallOptions, RpcClient } from "./rpc-client.js";

export interface SendBatcherOptions {
  /** Most sends in one SendBatch call. */
  readonly maxItems: number;
  /** Most bytes of strings (at worst 3 per UTF-16 unit) in one call, well under the service's request limit. */
  readonly maxBytes: number;
}

interface Queued {
  readonly item: MessageInitShape<typeof SendBatchItemSchema>;
  readonly timeoutMs: number;
  readonly settle: (error: ConnectError | undefined, response?: SendResponse) => void;
}

const neverAborted = new AbortController().signal;

function sizeOf(request: MessageInitShape<typeof SendRequestSchema>): number {
  const units = (request.chat?.length ?? 0) + (request.text?.length ?? 0) + (request.sender?.length ?? 0) + (request.clientMessageId?.length ?? 0);
  return units * 3 + 32;
}

/**
 * Sends messages to the message service in SendBatch calls: the sends that reach this point
 * in one turn of the event loop (many, under load; one when idle) leave together, in one
 * request. Per message that saves a round trip, the socket writes on both sides and most of
 * the HTTP work, which profiles showed to be the largest costs of the hop.
 *
 * Each send still goes through `interceptors` (its own client span and traceparent) and keeps
 * its own deadline and outcome: an item's error is that send's error, and a failed call fails
 * every send in it with the call's error, which the caller may retry like any failed Send
 * (every send carries an idempotency key). A service that answers SendBatch with
 * Unimplemented gets the batch's sends as Send calls instead.
 */
export class SendBatcher {
  readonly #client: RpcClient;
  readonly #options: SendBatcherOptions;
  readonly #sendCall: UnaryCall;
  #queue: Queued[] = [];
  #queuedBytes = 0;
  #flushScheduled = false;

  constructor(client: RpcClient, interceptors: readonly Interceptor[], options: SendBatcherOptions) {
    this.#client = client;
    this.#options = options;
    this.#sendCall = intercept(interceptors, (request) => this.#enqueue(request.message as never, request.header as never));
  }

  async send(init: MessageInitShape<typeof SendRequestSchema>, options: CallOptions): Promise<SendResponse> {
    const header = new CallHeaders({ "connect-timeout-ms": String(options.timeoutMs), ...options.headers });
    const request = unaryRequest(MessageService, MessageService.method.send, create(SendRequestSchema, init), header, neverAborted);
    return (await this.#sendCall(request)).message as SendResponse;
  }

  /** Queues one send as a batch item; resolves with its result, as Connect's UnaryResponse shape. */
  #enqueue(request: MessageInitShape<typeof SendRequestSchema>, header: CallHeaders): Promise<never> {
    const timeoutMs = Number(header.get("connect-timeout-ms"));
    const item = { request, ...sendBatchItemContext(header) };
    return new Promise<never>((resolve, reject) => {
      const timer = setTimeout(() => settle(new ConnectError("the call timed out", Code.DeadlineExceeded)), timeoutMs);
      let settled = false;
      const settle = (error: ConnectError | undefined, response?: SendResponse) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (error !== undefined) reject(error);
        else resolve({ message: response } as never);
      };
      const size = sizeOf(request);
      if (this.#queue.length > 0 && this.#queuedBytes + size > this.#options.maxBytes) this.#flush();
      this.#queue.push({ item, timeoutMs, settle });
      this.#queuedBytes += size;
      if (this.#queue.length >= this.#options.maxItems) this.#flush();
      else if (!this.#flushScheduled) {
        this.#flushScheduled = true;
        // After this turn's I/O callbacks: every request read in this turn joins the batch.
        // Outside any request's trace context: the call belongs to all its sends.
        context.with(ROOT_CONTEXT, () => setImmediate(() => this.#flush()));
      }
    });
  }

  #flush(): void {
    const queued = this.#queue;
    if (queued.length === 0) return;
    this.#queue = [];
    this.#queuedBytes = 0;
    this.#flushScheduled = false;
    const timeoutMs = Math.max(...queued.map((entry) => entry.timeoutMs));
    this.#client.sendBatch({ items: queued.map((entry) => entry.item) }, { timeoutMs }).then(
      ({ results }) => {
        queued.forEach((entry, index) => {
          const result = results[index]?.result;
          if (result?.case === "message") entry.settle(undefined, { message: result.value } as SendResponse);
          else if (result?.case === "error") entry.settle(new ConnectError(result.value.message, result.value.code as Code));
          else entry.settle(new ConnectError("the message service answered no result for this send", Code.Internal));
        });
      },
      (error: unknown) => {
        const connectError = ConnectError.from(error);
        if (connectError.code === Code.Unimplemented) return this.#sendOneByOne(queued);
        for (const entry of queued) entry.settle(connectError);
      },
    );
  }

  /**
   * Sends each queued item in a Send call of its own, with the headers it would have had: for
   * a message service that predates SendBatch (during a rolling upgrade, say).
   */
  #sendOneByOne(queued: readonly Queued[]): void {
    for (const { item, timeoutMs, settle } of queued) {
      this.#client.send(item.request ?? {}, { timeoutMs, headers: sendBatchItemHeaders(item) }).then(
        (response) => settle(undefined, response),
        (error: unknown) => settle(ConnectError.from(error)),
      );
    }
  }
}
