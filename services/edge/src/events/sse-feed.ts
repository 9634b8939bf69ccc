import type { SseEvent } from "./sse-response.js";

/** An open event stream as GET /api/events sends it: its events, and how it stops. */
export interface SseFeed {
  /** The next event to send; undefined once the stream has ended. */
  next(): Promise<SseEvent | undefined>;
  /** Ends the stream (the client left, or the edge is shutting down): next() resolves undefined. */
  end(): void;
  /** Lets go of what the stream holds (relays, calls to the service) once it is over. */
  close(): void;
}
