import Koa from "koa";
import type { Logger } from "@chat/runtime";
import type { Registry } from "prom-client";
import { observeRequests } from "./api/observe-requests.js";
import { errorResponses } from "./api/errors.js";
import { apiRoutes, type ApiDeps } from "./api/routes.js";

export interface AppDeps extends ApiDeps {
  readonly logger: Logger;
  readonly registry: Registry;
}

/** Builds the edge's Koa application from its dependencies; it does not listen. */
export function createApp(deps: AppDeps): Koa {
  const app = new Koa();
  const router = apiRoutes(deps);
  app.silent = true; // errors are logged by errorResponses, with their request
  app.use(async (ctx, next) => {
    ctx.set("x-content-type-options", "nosniff");
    ctx.set("cache-control", "no-store");
    // While draining, tell keep-alive clients to reconnect (to another replica).
    if (deps.isDraining()) ctx.set("connection", "close");
    await next();
  });
  app.use(observeRequests(deps.logger, deps.registry));
  app.use(errorResponses(deps.logger));
  app.use(router.routes());
  app.use(router.allowedMethods());
  return app;
}
