import * as http from "node:http";
import { listen } from "@chat/runtime";

/**
 * An OTLP/HTTP endpoint on loopback that takes trace exports and drops them, counting what it
 * got: what a collector costs the services to send to, without a collector's own cost (or
 * memory) in the measurement.
 */
export async function startOtlpSink() {
  let exports = 0;
  let bytes = 0;
  const server = http.createServer((request, response) => {
    request.on("data", (chunk: Buffer) => (bytes += chunk.length));
    request.on("end", () => {
      exports++;
      // An empty ExportTraceServiceResponse, in either encoding the exporter asked for.
      const json = request.headers["content-type"]?.includes("json") ?? false;
      response.writeHead(200, { "content-type": json ? "application/json" : "application/x-protobuf" }).end(json ? "{}" : "");
    });
  });
  const url = await listen(server, 0, "127.0.0.1");
  return {
    url,
    received: () => ({ exports, bytes }),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
