import type { Logger } from "@chat/runtime";
import type { Context, Next } from "koa";
import { Gauge, Histogram, type Registry } from "prom-client";

/** The probes' paths: asked every few seconds, so logged only at debug level, and never traced. */
export const probePaths: ReadonlySet<string> = new Set(["/healthz", "/readyz"]);

/**
 * One JSON log line and one histogram observation per request: method, route (the matched
 * route pattern, so label values stay few; "web client" for the page's files), status and
 * duration. Probes are counted but logged only at debug level. A gauge counts the requests
 * being served right now.
 */
export function observeRequests(logger: Logger, registry: Registry) {
  const duration = new Histogram({
    name: "http_server_request_duration_seconds",
    help: "Duration of HTTP requests served by the edge, by method, route and status.",
    labelNames: ["method", "route", "status_code"],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  const active = new Gauge({
    name: "http_server_active_requests",
    help: "HTTP requests the edge is serving right now.",
    registers: [registry],
  });
  return async (ctx: Context, next: Next): Promise<void> => {
    const started = process.hrtime.bigint();
    active.inc();
    try {
      await next();
    } finally {
      active.dec();
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      // Files of the web client match no API route; their middleware names them in ctx.state.route.
      const route = (ctx as { _matchedRoute?: string })._matchedRoute ?? (ctx.state.route as string | undefined) ?? "unmatched";
      duration.observe({ method: ctx.method, route, status_code: ctx.status }, seconds);
      const line = { method: ctx.method, route, status: ctx.status, duration_ms: Math.round(seconds * 1e6) / 1e3 };
      if (probePaths.has(ctx.path)) logger.debug(line, "request");
      else logger.info(line, "request");
    }
  };
}
