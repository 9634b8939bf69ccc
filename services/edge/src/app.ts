import Koa from "koa";
import type { Logger, RepeatLimitedLog } from "@chat/runtime";
import type { Registry } from "prom-client";
import { observeRequests } from "./api/observe-requests.js";
import { errorResponses } from "./api/errors.js";
import { limitQueryParameters } from "./api/request-limits.js";
import { apiRoutes, type ApiDeps } from "./api/routes.js";
import { traceRequests } from "./api/trace-requests.js";
import type { Middleware } from "./http/middleware.js";

export interface AppDeps extends ApiDeps {
  readonly logger: Logger;
  readonly registry: Registry;
  /** Where failures that repeat per request are logged. */
  readonly errorLog: RepeatLimitedLog;
  /** Most query parameters a request may carry. */
  readonly maxQueryParams: number;
  /** Most chats one event stream may watch: its query may name that many. */
  readonly maxSubscribeChats: number;
  /** Serves the browser client where no API route matched (./web/static-files.ts); none when absent. */
  readonly webClient?: Middleware;
}

/** Builds the edge's Koa application from its dependencies; it does not listen. */
export function createApp(deps: AppDeps): Koa {
  const app = new Koa();
  const router = apiRoutes(deps);
  app.silent = true; // errors are logged by errorResponses, with their route
  // Outermost: the request's log line and every call made for it run inside its span.
  app.use(traceRequests());
  app.use(async (ctx, next) => {
    ctx.set("x-content-type-options", "nosniff");
    ctx.set("cache-control", "no-store");
    // A JSON API: nothing here is a page to render, frame or follow links from.
    ctx.set("content-security-policy", "default-src 'none'; frame-ancestors 'none'");
    ctx.set("x-frame-options", "DENY");
    ctx.set("referrer-policy", "no-referrer");
    // While draining, tell keep-alive clients to reconnect (to another replica).
    if (deps.isDraining()) ctx.set("connection", "close");
    await next();
  });
  app.use(observeRequests(deps.logger, deps.registry));
  app.use(errorResponses(deps.errorLog));
  // An event stream names its chats in the query (chat=… repeated).
  app.use(limitQueryParameters((ctx) => (ctx.path === "/api/events" ? deps.maxSubscribeChats + 3 : deps.maxQueryParams)));
  app.use(router.routes());
  app.use(router.allowedMethods());
  if (deps.webClient) app.use(deps.webClient);
  return app;
}
