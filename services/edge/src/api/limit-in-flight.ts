import type { Context, Next } from "koa";
import { unavailable } from "./api-error.js";

/**
 * Refuses requests beyond `max` served at once with a retryable 503, so overload sheds
 * work early instead of growing queues and memory until everything is slow.
 */
export function limitInFlight(max: number) {
  let inFlight = 0;
  return async (_ctx: Context, next: Next): Promise<void> => {
    if (inFlight >= max) {
      throw unavailable("the server is overloaded; retry shortly");
    }
    inFlight++;
    try {
      await next();
    } finally {
      inFlight--;
    }
  };
}
