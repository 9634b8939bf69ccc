import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { startRedis } from "../harness/redis.js";
import { startStack, type Stack } from "../harness/services.js";
import { restClient, type RestClient } from "../support/http.js";
import { uniqueChat } from "../support/ids.js";
import { waitFor } from "../harness/wait.js";
import { requireSample, sample } from "../support/metrics.js";

describe("Prometheus metrics", () => {
  let stack: Stack;
  let api: RestClient;
  beforeAll(async () => {
    stack = await startStack({ REDIS_URL: inject("redisUrl") });
    api = restClient(stack.edge.url);
  });
  afterAll(async () => {
    await api?.close();
    await stack?.stop();
  });

  it("count requests per route and status at the edge and per RPC method and code at the service", async () => {
    const edgeSends = { method: "POST", route: "/api/send", status_code: "200" };
    const edgeRejected = { method: "POST", route: "/api/send", status_code: "400" };
    const rpcOk = { rpc_method: "Send", rpc_code: "ok" };
    const rpcRejected = { rpc_method: "Send", rpc_code: "invalid_argument" };
    const series = [
      [stack.edge.metricsUrl, "http_server_request_duration_seconds_count", edgeSends],
      [stack.edge.metricsUrl, "http_server_request_duration_seconds_count", edgeRejected],
      [stack.message.metricsUrl, "rpc_server_duration_seconds_count", rpcOk],
      [stack.message.metricsUrl, "rpc_server_duration_seconds_count", rpcRejected],
    ] as const;
    // A labelled series appears with its first observation: none yet means none counted.
    const before = await Promise.all(series.map(async ([url, name, labels]) => (await sample(url, name, labels)) ?? 0));
    const { chat, a } = uniqueChat();
    for (let i = 0; i < 3; i++) await api.call("POST", "/api/send", { json: { chat, sender: a, text: `${i}` } });
    await api.call("POST", "/api/send", { json: { chat, sender: "intruder", text: "x" } });
    const after = await Promise.all(series.map(([url, name, labels]) => requireSample(url, name, labels)));
    expect(after.map((value, i) => value - before[i]!)).toEqual([3, 1, 3, 1]);
    expect(await requireSample(stack.edge.metricsUrl, "http_server_request_duration_seconds_bucket", { ...edgeSends, le: "+Inf" })).toBe(after[0]);
  });

  it("include process metrics, and stay off the public port", async () => {
    for (const service of [stack.edge, stack.message]) {
      const cpu = await requireSample(service.metricsUrl, "process_cpu_user_seconds_total");
      expect(cpu).toBeGreaterThan(0);
      expect(cpu).toBeLessThan(3_600);
      // The lag gauge reads 0 until the setImmediate a scrape schedules has run; a later scrape
      // reports it. An idle process lags microseconds; 2 s only rules out garbage and wrong units.
      await requireSample(service.metricsUrl, "nodejs_eventloop_lag_seconds");
      const lag = await waitFor("a measured event loop lag", async () => {
        const value = await requireSample(service.metricsUrl, "nodejs_eventloop_lag_seconds");
        return value !== 0 && value;
      });
      expect(Number.isFinite(lag)).toBe(true);
      expect(lag).toBeGreaterThan(0);
      expect(lag).toBeLessThan(2);
    }
    expect((await api.call("GET", "/metrics")).status).toBe(404);
  });
});

it("counts each storage call that failed while Redis was down", async () => {
  const redis = await startRedis();
  // One attempt per send, so the counter must move by exactly the sends made.
  const stack = await startStack({ REDIS_URL: redis.url, REDIS_COMMAND_TIMEOUT_MS: "300" }, { RPC_RETRY_ATTEMPTS: "1" });
  const api = restClient(stack.edge.url);
  try {
    const { chat, a } = uniqueChat();
    const unavailable = { kind: "unavailable" };
    const before = (await sample(stack.message.metricsUrl, "redis_errors_total", unavailable)) ?? 0;
    await redis.stop();
    for (let i = 0; i < 2; i++) {
      expect((await api.call("POST", "/api/send", { json: { chat, sender: a, text: "x" } })).status).toBe(503);
    }
    expect(await requireSample(stack.message.metricsUrl, "redis_errors_total", unavailable)).toBe(before + 2);
  } finally {
    await api.close();
    await stack.stop();
  }
});
