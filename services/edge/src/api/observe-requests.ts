import type { Logger } from "@chat/runtime";
import type { Context, Next } from "koa";
import { Histogram, type Registry } from "prom-client";

const quietPaths = new Set(["/healthz", "/readyz"]);

/**
 * One JSON log line and one histogram observation per request: method, route (the matched
 * route pattern, so label values stay few), status and duration. Probes are counted but
 * logged only at debug level.
 */
export function observeRequests(logger: Logger, registry: Registry) {
  const duration = new Histogram({
    name: "http_server_request_duration_seconds",
    help: "Duration of HTTP requests served by the edge, by method, route and status.",
    labelNames: ["method", "route", "status_code"],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  return async (ctx: Context, next: Next): Promise<void> => {
    const started = process.hrtime.bigint();
    try {
      await next();
    } finally {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const route = (ctx as { _matchedRoute?: string })._matchedRoute ?? "unmatched";
      duration.observe({ method: ctx.method, route, status_code: ctx.status }, seconds);
      const line = { method: ctx.method, route, status: ctx.status, duration_ms: Math.round(seconds * 1e6) / 1e3 };
      if (quietPaths.has(ctx.path)) logger.debug(line, "request");
      else logger.info(line, "request");
    }
  };
}
