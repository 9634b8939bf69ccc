import type { Readable } from "node:stream";

/** A request body being received: node:http's IncomingMessage, or node:http2's Http2ServerRequest. */
export type RequestBody = Readable & { readonly complete: boolean };

export interface DiscardLimits {
  /** Most bytes read and dropped. */
  readonly maxBytes: number;
  /** Longest wait for the body to end. */
  readonly maxMs: number;
}

/** How discarding ended: the body ended (or the request closed), or a limit was reached first. */
export type DiscardOutcome = "ended" | "limit";

/**
 * Reads what is left of a refused request's body and drops it, until the body ends or a limit
 * is reached. A client still sending then reads the answer instead of a connection reset
 * (RFC 9112 §9.6), and a keep-alive connection stays usable. Past a limit the caller closes.
 */
export function discardRequestBody(request: RequestBody, limits: DiscardLimits): Promise<DiscardOutcome> {
  if (request.complete || request.destroyed) return Promise.resolve("ended");
  return new Promise((resolve) => {
    let seen = 0;
    const finish = (outcome: DiscardOutcome) => {
      clearTimeout(timer);
      request.off("data", onData).off("end", ended).off("close", ended).off("error", ended);
      resolve(outcome);
    };
    const ended = () => finish("ended");
    const onData = (chunk: Buffer) => {
      seen += chunk.length;
      if (seen > limits.maxBytes) finish("limit");
    };
    const timer = setTimeout(() => finish("limit"), limits.maxMs);
    request.on("data", onData).once("end", ended).once("close", ended).once("error", ended);
    request.resume();
  });
}
