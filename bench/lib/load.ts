import autocannon from "autocannon";
import { latencySummary, Samples } from "./stats.js";

/** One request of a load: its path (with query) and, for POST, its JSON body. */
export interface RequestShape {
  readonly path: string;
  readonly body?: string;
}

export interface ClosedLoad {
  /** Base URL, e.g. http://127.0.0.1:8080 */
  readonly url: string;
  readonly method: "GET" | "POST";
  /** The n-th request of the run (n counts across all connections). */
  readonly request: (n: number) => RequestShape;
  readonly connections: number;
  readonly durationS: number;
}

export interface LoadResult {
  /** Successful (2xx) requests per second. */
  readonly throughput: number;
  readonly requests: number;
  readonly errors: number;
  readonly non2xx: number;
  readonly durationS: number;
  /** Latency of 2xx responses, in ms, as measured by autocannon at full (sub-ms) resolution. */
  readonly latencyMs: { p50: number; p90: number; p99: number; max: number };
  /** CPU of a load generator running as its own process (wrk); autocannon runs in ours. */
  readonly loadgenCpuSeconds?: number;
}

/**
 * A closed-loop run with autocannon: `connections` keep-alive connections, each sending its
 * next request when the previous answer arrives. Latencies are taken from autocannon's own
 * per-response timing (its histogram rounds to whole milliseconds, too coarse here).
 */
export async function closedLoop(load: ClosedLoad): Promise<LoadResult> {
  let next = 0;
  const samples = new Samples();
  const options: autocannon.Options = {
    url: load.url,
    connections: load.connections,
    duration: load.durationS,
    method: load.method,
    headers: load.method === "POST" ? { "content-type": "application/json" } : {},
    requests: [
      {
        setupRequest: (request) => {
          const shape = load.request(next++);
          return { ...request, path: shape.path, ...(shape.body === undefined ? {} : { body: shape.body }) };
        },
      },
    ],
  };
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(options, (error: unknown, done: autocannon.Result) =>
      error ? reject(error instanceof Error ? error : new Error(String(error))) : resolve(done),
    );
    instance.on("response", (_client, statusCode, _bytes, responseTimeMs) => {
      if (statusCode >= 200 && statusCode < 300) samples.push(responseTimeMs);
    });
  });
  const ok = result["2xx"];
  return {
    throughput: ok / result.duration,
    requests: ok,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
    durationS: result.duration,
    latencyMs: latencySummary(samples.toArray()),
  };
}
