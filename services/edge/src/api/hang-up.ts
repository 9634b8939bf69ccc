import { Code, ConnectError } from "@connectrpc/connect";
import type { Context } from "koa";

/**
 * A signal aborted when the request's client hangs up before its answer is written: the
 * calls made for it are cancelled, down to the message service and its wait on Redis,
 * instead of running on for nobody. (The response's "close" is the one to watch: the
 * request's fires as soon as its body has been read.)
 */
export function hangUpSignal(ctx: Context): AbortSignal {
  const controller = new AbortController();
  const response = ctx.res;
  if (response.writableFinished) return controller.signal;
  response.once("close", () => {
    if (!response.writableFinished) controller.abort(new ConnectError("the client closed the connection before the answer", Code.Canceled));
  });
  return controller.signal;
}
