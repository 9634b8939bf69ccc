import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";

/**
 * Refuses calls beyond `max` served at once as Unavailable, which callers retry, perhaps on
 * another replica, instead of letting queues and memory grow under overload.
 */
export function limitInFlight(max: number): Interceptor {
  let inFlight = 0;
  return (next) => async (request) => {
    if (inFlight >= max) throw new ConnectError("the message service is overloaded; retry shortly", Code.Unavailable);
    inFlight++;
    try {
      return await next(request);
    } finally {
      inFlight--;
    }
  };
}
