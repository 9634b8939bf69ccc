import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { startRedis } from "../harness/redis.js";
import { startStack, type Stack } from "../harness/services.js";
import { restClient, type RestClient } from "../support/http.js";
import { uniqueChat } from "../support/ids.js";
import { sample } from "../support/metrics.js";

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
    const before = await Promise.all([
      sample(stack.edge.metricsUrl, "http_server_request_duration_seconds_count", edgeSends),
      sample(stack.edge.metricsUrl, "http_server_request_duration_seconds_count", edgeRejected),
      sample(stack.message.metricsUrl, "rpc_server_duration_seconds_count", rpcOk),
      sample(stack.message.metricsUrl, "rpc_server_duration_seconds_count", rpcRejected),
    ]);
    const { chat, a } = uniqueChat();
    for (let i = 0; i < 3; i++) await api.call("POST", "/api/send", { json: { chat, sender: a, text: `${i}` } });
    await api.call("POST", "/api/send", { json: { chat, sender: "intruder", text: "x" } });
    const after = await Promise.all([
      sample(stack.edge.metricsUrl, "http_server_request_duration_seconds_count", edgeSends),
      sample(stack.edge.metricsUrl, "http_server_request_duration_seconds_count", edgeRejected),
      sample(stack.message.metricsUrl, "rpc_server_duration_seconds_count", rpcOk),
      sample(stack.message.metricsUrl, "rpc_server_duration_seconds_count", rpcRejected),
    ]);
    expect(after.map((value, i) => value - before[i]!)).toEqual([3, 1, 3, 1]);
    expect(await sample(stack.edge.metricsUrl, "http_server_request_duration_seconds_bucket", { ...edgeSends, le: "+Inf" })).toBe(after[0]);
  });

  it("include process metrics, and stay off the public port", async () => {
    for (const service of [stack.edge, stack.message]) {
      expect(await sample(service.metricsUrl, "process_cpu_user_seconds_total", {})).toBeGreaterThan(0);
      expect(await sample(service.metricsUrl, "nodejs_eventloop_lag_seconds", {})).toBeGreaterThanOrEqual(0);
    }
    expect((await api.call("GET", "/metrics")).status).toBe(404);
  });
});

it("counts Redis failures", async () => {
  const redis = await startRedis();
  const stack = await startStack({ REDIS_URL: redis.url, REDIS_COMMAND_TIMEOUT_MS: "300" });
  const api = restClient(stack.edge.url);
  try {
    const { chat, a } = uniqueChat();
    await redis.stop();
    expect((await api.call("POST", "/api/send", { json: { chat, sender: a, text: "x" } })).status).toBe(503);
    expect(await sample(stack.message.metricsUrl, "redis_errors_total", { kind: "unavailable" })).toBeGreaterThan(0);
  } finally {
    await api.close();
    await stack.stop();
  }
});
