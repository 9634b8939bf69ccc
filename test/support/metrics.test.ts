import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { requireSample, sample } from "./metrics.js";

// Prometheus text as prom-client writes it, label values with escapes included.
const exposition = `# HELP calls_total Calls.
# TYPE calls_total counter
calls_total{method="Send",code="ok"} 3
calls_total{method="Send",code="invalid_argument"} 0
calls_total{method="Pull",code="ok"} 7
# TYPE duration_seconds histogram
duration_seconds_bucket{le="0.5",route="/api/send"} 2
duration_seconds_bucket{le="+Inf",route="/api/send"} 3
lag_seconds 0.000125
odd_total{path="a,b=\\"c\\"\\\\d"} 1
`;

describe("sample and requireSample", () => {
  let server: http.Server;
  let url: string;
  beforeAll(async () => {
    server = http.createServer((_request, response) => response.writeHead(200, { "content-type": "text/plain" }).end(exposition));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it("read the one series the labels pick, a value of 0 included", async () => {
    expect(await sample(url, "calls_total", { method: "Send", code: "ok" })).toBe(3);
    expect(await sample(url, "calls_total", { method: "Send", code: "invalid_argument" })).toBe(0);
    expect(await sample(url, "duration_seconds_bucket", { route: "/api/send", le: "+Inf" })).toBe(3);
    expect(await sample(url, "lag_seconds")).toBe(0.000125);
    expect(await sample(url, "odd_total", { path: 'a,b="c"\\d' })).toBe(1);
  });

  it("tell a missing series from 0: sample answers undefined, requireSample throws naming it", async () => {
    expect(await sample(url, "calls_total", { method: "Send", code: "unavailable" })).toBeUndefined();
    expect(await sample(url, "no_such_metric")).toBeUndefined();
    await expect(requireSample(url, "calls_total", { method: "Send", code: "unavailable" })).rejects.toThrow(
      /^no series calls_total\{method="Send",code="unavailable"\} at .* \(series of that name: calls_total\{method="Send",code="ok"\}, /,
    );
    await expect(requireSample(url, "no_such_metric")).rejects.toThrow(/no series no_such_metric\{\} .*series of that name: none/);
  });

  it("refuse labels that fit several series instead of reading one of them", async () => {
    await expect(sample(url, "calls_total", { method: "Send" })).rejects.toThrow(/matches 2 series/);
    await expect(requireSample(url, "calls_total")).rejects.toThrow(/matches 3 series/);
  });
});
