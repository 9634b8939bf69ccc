import type { Context, Next } from "koa";
import { unavailable } from "./api-error.js";

/**
 * Refuses requests beyond `max` served at once with a retryable 503, so overload sheds
 * work early instead of growing queues and memory until everything is slow.
 */
export function limitInFlight(max: number) {
  let inFlight = 0;
  return async (ctx: Context, next: Next): Promise<void> => {
    // Event streams last for hours: they have a limit of their own (MAX_STREAMS).
    if (ctx.path === "/api/events") return next();
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
