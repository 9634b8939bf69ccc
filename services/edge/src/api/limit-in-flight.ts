import { unavailable } from "../http/api-error.js";

/**
 * Slots for requests being worked on. A request takes one only once its body has arrived, so
 * clients that send slowly (or not at all) cannot take the slots of those that have sent.
 */
export interface InFlightLimit {
  /** Runs `work` in a slot, or refuses it with a retryable 503 when every slot is taken. */
  run<T>(work: () => Promise<T>): Promise<T>;
}

/**
 * At most `max` requests worked on at once; more are refused with a retryable 503, so overload
 * sheds work early instead of growing queues and memory until everything is slow.
 */
export function inFlightLimit(max: number): InFlightLimit {
  let inFlight = 0;
  return {
    async run(work) {
      if (inFlight >= max) throw unavailable("the server is overloaded; retry shortly");
      inFlight++;
      try {
        return await work();
      } finally {
        inFlight--;
      }
    },
  };
}
