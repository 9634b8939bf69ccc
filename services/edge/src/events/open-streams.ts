import { unavailable } from "../http/api-error.js";

/**
 * The event streams one edge process holds. They are not requests in flight (they last for
 * hours), so they have a limit of their own; on shutdown they end spread over a window, so
 * their clients do not all reconnect at the same moment.
 */
export class OpenStreams {
  readonly #max: number;
  readonly #open = new Set<() => void>();

  constructor(max: number) {
    this.#max = max;
  }

  get size(): number {
    return this.#open.size;
  }

  /** Takes a slot for a stream that `end` closes; a 503 with Retry-After when none is free. */
  acquire(end: () => void): () => void {
    if (this.#open.size >= this.#max) {
      throw unavailable(`this server holds its most event streams (${this.#max}); retry shortly`, 5);
    }
    this.#open.add(end);
    return () => void this.#open.delete(end);
  }

  /** Ends every stream at a random moment within `spreadMs`; resolves when all have ended. */
  async endAll(spreadMs: number): Promise<void> {
    await Promise.all(
      [...this.#open].map(
        (end) =>
          new Promise<void>((resolve) =>
            setTimeout(() => {
              end();
              resolve();
            }, Math.random() * spreadMs),
          ),
      ),
    );
  }
}
