import type { Context, Next } from "koa";
import { ApiError } from "./api-error.js";

/**
 * Refuses requests beyond `max` served at once with a retryable 503, so overload sheds
 * work early instead of growing queues and memory until everything is slow.
 */
export function limitInFlight(max: number) {
  let inFlight = 0;
  return async (_ctx: Context, next: Next): Promise<void> => {
    if (inFlight >= max) {
      throw new ApiError(503, "unavailable", "the server is overloaded; retry shortly", { "retry-after": "1" });
    }
    inFlight++;
    try {
      await next();
    } finally {
      inFlight--;
    }
  };
}
