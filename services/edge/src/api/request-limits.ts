import type { Context, Next } from "koa";
import { invalidArgument } from "../http/api-error.js";

/** Refuses a query string with more than `max(ctx)` parameters, before anything parses it. */
export function limitQueryParameters(maxOf: (ctx: Context) => number) {
  return async (ctx: Context, next: Next): Promise<void> => {
    const query = ctx.querystring;
    if (query !== "") {
      const max = maxOf(ctx);
      const count = query.split("&").filter((pair) => pair !== "").length;
      if (count > max) throw invalidArgument(`the query string has ${count} parameters; at most ${max} are accepted`);
    }
    await next();
  };
}
