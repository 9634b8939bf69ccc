import { context, ROOT_CONTEXT } from "@opentelemetry/api";
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { Code, ConnectError, createContextValues, type CallOptions, type Client, type Interceptor, type UnaryRequest, type UnaryResponse } from "@connectrpc/connect";
import { createMethodUrl, runUnaryCall } from "@connectrpc/connect/protocol";
import {
  MessageService,
  sendBatchItemContext,
  sendBatchItemHeaders,
  SendResponseSchema,
  type SendBatchItemSchema,
  type SendRequestSchema,
  type SendResponse,
} from "@chat/proto";

export interface SendBatcherOptions {
  /** Most sends in one SendBatch call. */
  readonly maxItems: number;
  /** Most bytes of strings (at worst 3 per UTF-16 unit) in one call, well under the service's request limit. */
  readonly maxBytes: number;
}

type SendMethod = typeof MessageService.method.send;

interface Queued {
  readonly item: MessageInitShape<typeof SendBatchItemSchema>;
  /** What is left of the send's deadline when its batch leaves; undefined without one. */
  readonly deadline: number | undefined;
  readonly signal: AbortSignal;
  /** Settles the send, unless it has settled already (its deadline passed, its caller went away). */
  readonly settle: (error: ConnectError | undefined, response?: SendResponse) => void;
}

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
 * `send` has the signature of a Connect client's Send, and each send runs as a Connect call
 * of its own (connect's runUnaryCall): through `interceptors` (its own client span and
 * traceparent), with its own deadline and signal, and its own outcome: an item's error is
 * that send's error, and a failed call fails every send in it with the call's error, which
 * the caller may retry like any failed Send (every send carries an idempotency key). A send
 * whose caller gives up leaves the queue, or, once its batch has left, stops waiting for it;
 * the batch call is cancelled when none of its sends waits any more. A service that answers
 * SendBatch with Unimplemented gets the batch's sends as Send calls instead.
 */
export class SendBatcher {
  readonly #client: Pick<Client<typeof MessageService>, "send" | "sendBatch">;
  readonly #interceptors: Interceptor[];
  readonly #options: SendBatcherOptions;
  readonly #url: string;
  #queue: Queued[] = [];
  #queuedBytes = 0;
  #flushScheduled = false;

  /**
   * `client` makes the SendBatch calls (and the Send calls of the fallback); `interceptors`
   * wrap each send, as a transport's would wrap a Send call; `baseUrl` is the service's, for
   * the URL the interceptors see.
   */
  constructor(
    client: Pick<Client<typeof MessageService>, "send" | "sendBatch">,
    interceptors: readonly Interceptor[],
    options: SendBatcherOptions & { readonly baseUrl: string },
  ) {
    this.#client = client;
    this.#interceptors = [...interceptors];
    this.#options = options;
    this.#url = createMethodUrl(options.baseUrl, MessageService.method.send);
  }

  send(request: MessageInitShape<typeof SendRequestSchema>, options: CallOptions = {}): Promise<SendResponse> {
    const method: SendMethod = MessageService.method.send;
    // As Connect's transports read it: zero or less is no deadline.
    const timeoutMs = options.timeoutMs !== undefined && options.timeoutMs > 0 ? options.timeoutMs : undefined;
    return runUnaryCall<typeof method.input, typeof method.output>({
      interceptors: this.#interceptors,
      signal: options.signal,
      timeoutMs,
      req: {
        stream: false,
        service: MessageService,
        method,
        requestMethod: "POST",
        url: this.#url,
        header: new Headers(options.headers),
        contextValues: options.contextValues ?? createContextValues(),
        message: request,
      },
      next: (call) => this.#enqueue(call, timeoutMs),
    }).then((response) => response.message);
  }

  /** Queues one send as a batch item; resolves with its result once its batch has answered. */
  #enqueue(call: UnaryRequest<SendMethod["input"], SendMethod["output"]>, timeoutMs: number | undefined) {
    const { signal } = call;
    const deadline = timeoutMs === undefined ? undefined : Date.now() + timeoutMs;
    const item = { request: call.message, ...sendBatchItemContext(call.header) };
    return new Promise<UnaryResponse<SendMethod["input"], SendMethod["output"]>>(
      (resolve, reject) => {
        let settled = false;
        const settle = (error: ConnectError | undefined, response?: SendResponse) => {
          if (settled) return;
          settled = true;
          signal.removeEventListener("abort", onAbort);
          if (error !== undefined) reject(error);
          else resolve({ stream: false, service: MessageService, method: call.method, header: new Headers(), trailer: new Headers(), message: response ?? create(SendResponseSchema) });
        };
        // The deadline, or the caller going away: runUnaryCall answers with the signal's reason.
        const onAbort = () => settle(ConnectError.from(signal.reason, Code.Canceled));
        if (signal.aborted) return void onAbort();
        signal.addEventListener("abort", onAbort);
        const size = sizeOf(call.message);
        if (this.#queue.length > 0 && this.#queuedBytes + size > this.#options.maxBytes) this.#flush();
        this.#queue.push({ item, deadline, signal, settle });
        this.#queuedBytes += size;
        if (this.#queue.length >= this.#options.maxItems) this.#flush();
        else if (!this.#flushScheduled) {
          this.#flushScheduled = true;
          // After this turn's I/O callbacks: every request read in this turn joins the batch.
          // Outside any request's trace context: the call belongs to all its sends.
          context.with(ROOT_CONTEXT, () => setImmediate(() => this.#flush()));
        }
      },
    );
  }

  #flush(): void {
    this.#flushScheduled = false;
    // Sends that settled while queued (deadline, caller gone) stay out of the batch.
    const queued = this.#queue.filter((entry) => !entry.signal.aborted);
    this.#queue = [];
    this.#queuedBytes = 0;
    if (queued.length === 0) return;
    const now = Date.now();
    const deadlines = queued.map((entry) => entry.deadline);
    const timeoutMs = deadlines.includes(undefined) ? undefined : Math.max(1, ...deadlines.map((deadline) => deadline! - now));
    // The call ends early once no send waits for it any more.
    const call = new AbortController();
    let waiting = queued.length;
    const leave = () => {
      if (--waiting === 0) call.abort(new ConnectError("every send of the batch was cancelled", Code.Canceled));
    };
    for (const entry of queued) entry.signal.addEventListener("abort", leave, { once: true });
    const done = () => {
      for (const entry of queued) entry.signal.removeEventListener("abort", leave);
    };
    this.#client.sendBatch({ items: queued.map((entry) => entry.item) }, { timeoutMs, signal: call.signal }).then(
      ({ results }) => {
        done();
        queued.forEach((entry, index) => {
          const result = results[index]?.result;
          if (result?.case === "message") entry.settle(undefined, create(SendResponseSchema, { message: result.value }));
          else if (result?.case === "error") entry.settle(new ConnectError(result.value.message, result.value.code as Code));
          else entry.settle(new ConnectError("the message service answered no result for this send", Code.Internal));
        });
      },
      (error: unknown) => {
        done();
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
    for (const { item, deadline, signal, settle } of queued) {
      const timeoutMs = deadline === undefined ? undefined : Math.max(1, deadline - Date.now());
      this.#client.send(item.request ?? {}, { timeoutMs, signal, headers: sendBatchItemHeaders(item) }).then(
        (response) => settle(undefined, response),
        (error: unknown) => settle(ConnectError.from(error)),
      );
    }
  }
}
