import * as http from "node:http";
import { collectDefaultMetrics, Registry } from "prom-client";
import type { Logger } from "pino";
import { drainConnections } from "./http-shutdown.js";
import type { Running } from "./lifecycle.js";
import { listen } from "./listen.js";

/** A metrics registry holding the Node.js process metrics (CPU, memory, event loop lag, GC). */
export function createMetricsRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return registry;
}

/**
 * Serves GET /metrics in the Prometheus text format on its own port, away from the public
 * API port, so scraping never goes through the ingress.
 */
export async function startMetricsServer(
  registry: Registry,
  options: { port: number; host: string; logger: Logger },
): Promise<Running> {
  const server = http.createServer((request, response) => {
    if (request.method !== "GET" || (request.url ?? "").split("?")[0] !== "/metrics") {
      response.writeHead(404, { "content-type": "text/plain" }).end("try GET /metrics\n");
      return;
    }
    registry.metrics().then(
      (text) => response.writeHead(200, { "content-type": registry.contentType }).end(text),
      (error: unknown) => {
        options.logger.error({ err: error }, "collecting metrics failed");
        response.writeHead(500).end();
      },
    );
  });
  const url = await listen(server, options.port, options.host);
  options.logger.info({ url: `${url}/metrics` }, "metrics listening");
  return { url, close: () => drainConnections({ listener: server, http1: server }, 1_000) };
}
