import * as http from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startRedis, type RedisServer } from "../harness/redis.js";
import { startStack, type Stack } from "../harness/services.js";
import { waitFor } from "../harness/wait.js";
import { uniqueChat } from "../support/ids.js";
import { requireSample, sample } from "../support/metrics.js";

/** Starts a request to the edge and resolves once its whole body is sent; `hangUp` closes its connection. */
function openRequest(baseUrl: string, method: string, path: string, body?: string) {
  const request = http.request(`${baseUrl}${path}`, { method, headers: body === undefined ? {} : { "content-type": "application/json" }, agent: false });
  request.on("error", () => {});
  request.end(body);
  return { hangUp: () => request.destroy() };
}

const calls = (stack: Stack, method: string, code: string) =>
  sample(stack.message.metricsUrl, "rpc_server_duration_seconds_count", { rpc_method: method, rpc_code: code }).then((count) => count ?? 0);

describe("a REST client that hangs up", () => {
  let redis: RedisServer;
  let stack: Stack;
  beforeAll(async () => {
    // A Redis of its own: the test holds its writes and reads with CLIENT PAUSE.
    redis = await startRedis();
    // One attempt, a long deadline: only the hang-up can end the call within the test.
    stack = await startStack({ REDIS_URL: redis.url, REDIS_COMMAND_TIMEOUT_MS: "20000" }, { RPC_RETRY_ATTEMPTS: "1", RPC_TIMEOUT_MS: "20000", RPC_ATTEMPT_TIMEOUT_MS: "20000" });
  });
  afterAll(async () => {
    await redis?.cli("client", "unpause").catch(() => "");
    await stack?.stop();
    await redis?.stop();
  });

  it.each([
    ["a send", "Send", "POST", "/api/send", (chat: string, a: string) => JSON.stringify({ chat, sender: a, text: "nobody waits" })],
    ["a pull", "Pull", "GET", "/api/pull?chat=%s", () => undefined],
  ])("cancels %s's call to the message service, which stops waiting on Redis", async (_name, method, verb, path, body) => {
    const { chat, a } = uniqueChat();
    const canceledBefore = await calls(stack, method, "canceled");
    const answeredBefore = await calls(stack, method, "ok");
    const inFlight = () => requireSample(stack.edge.metricsUrl, "http_server_active_requests");
    // Reads can only be held by pausing every command, CLIENT UNPAUSE included: that pause
    // is short, and simply runs out (the checks below end well within it).
    const reads = verb === "GET";
    await redis.cli("client", "pause", reads ? "8000" : "30000", reads ? "ALL" : "WRITE");
    try {
      const request = openRequest(stack.edge.url, verb, path.replace("%s", encodeURIComponent(chat)), body(chat, a));
      await waitFor("the request to reach the edge", async () => (await inFlight()) === 1);
      // Held in Redis: the call is at the service, and stays there while Redis is paused.
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(await calls(stack, method, "canceled")).toBe(canceledBefore);
      const hungUp = performance.now();
      request.hangUp();
      // The service's call ends as canceled while Redis is still paused, long before any deadline.
      await waitFor("the service's call to end canceled", async () => (await calls(stack, method, "canceled")) === canceledBefore + 1, { timeoutMs: 5_000 });
      expect(performance.now() - hungUp).toBeLessThan(5_000);
      await waitFor("the edge to finish the request", async () => (await inFlight()) === 0, { timeoutMs: 5_000 });
      expect(await calls(stack, method, "ok")).toBe(answeredBefore);
    } finally {
      await redis.cli("client", "unpause");
    }
  });
});
