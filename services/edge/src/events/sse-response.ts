import type { ServerResponse } from "node:http";
import { createEventBuffer } from "better-sse";

export interface SseOptions {
  /** The reconnection delay suggested to clients (the `retry:` field), in milliseconds. */
  readonly retryMs: number;
  /** A comment line goes out after this long without an event, for proxies and NATs. */
  readonly heartbeatMs: number;
}

/** One event as the stream sends it: `id:`, `event:` and one JSON `data:` line. */
export interface SseEvent {
  readonly id: string;
  readonly event: string;
  readonly data: unknown;
}

/** The last event framed: streams sending the same event (one chat's message) frame it once. */
let lastFramed: { readonly event: SseEvent; readonly text: string } | undefined;

/**
 * A text/event-stream response on a Node response, framed by better-sse's EventBuffer
 * (which escapes line breaks the way the specification wants). Writes wait for the socket
 * to drain, so a slow client slows its subscription down rather than filling memory here;
 * the message service then drops what the subscriber cannot take (a reset, lagging).
 */
export class SseResponse {
  readonly #res: ServerResponse;
  readonly #options: SseOptions;
  readonly #buffer = createEventBuffer();
  #heartbeat: NodeJS.Timeout | undefined;
  #draining = false;
  /** Whether anything went out since the last heartbeat tick. */
  #sent = false;

  constructor(res: ServerResponse, options: SseOptions) {
    this.#res = res;
    this.#options = options;
  }

  /** Sends the status line and headers, and the retry hint. */
  open(): void {
    this.#res.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-store",
      // nginx and others buffer responses by default; a stream must not wait in a buffer.
      "x-accel-buffering": "no",
    });
    this.#flush(this.#buffer.retry(this.#options.retryMs).dispatch());
    // One timer per stream, not one per event: a tick that finds nothing sent since the last
    // one sends a comment. A quiet stream gets one every period; no stream is silent for
    // more than two.
    this.#heartbeat = setInterval(() => {
      // While the socket has not drained, more bytes would only queue: the stream is not idle.
      if (!this.#sent && !this.#draining && !this.#res.writableEnded) this.#flush(this.#buffer.comment("keep-alive").dispatch());
      this.#sent = false;
    }, this.#options.heartbeatMs);
  }

  async send(event: SseEvent): Promise<void> {
    if (lastFramed?.event !== event) lastFramed = { event, text: this.#buffer.id(event.id).event(event.event).data(event.data).dispatch().read() };
    this.#buffer.clear();
    this.#sent = true;
    if (!this.#res.write(lastFramed.text)) await this.#drained();
  }

  end(): void {
    clearInterval(this.#heartbeat);
    if (!this.#res.writableEnded) this.#res.end();
  }

  #flush(buffer: ReturnType<typeof createEventBuffer>): boolean {
    const text = buffer.read();
    buffer.clear();
    this.#sent = true;
    return this.#res.write(text);
  }

  #drained(): Promise<void> {
    this.#draining = true;
    return new Promise<void>((resolve) => {
      const done = () => {
        this.#draining = false;
        this.#res.off("drain", done).off("close", done);
        resolve();
      };
      this.#res.once("drain", done).once("close", done);
    });
  }
}
