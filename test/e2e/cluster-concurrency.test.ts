import { afterAll, beforeAll, expect, inject, it } from "vitest";
import { startStack, type Stack } from "../harness/services.js";
import { restClient, type RestClient } from "../support/http.js";
import { uniqueChat } from "../support/ids.js";

let stack: Stack;
let api: RestClient;

beforeAll(async () => {
  // This test is about correctness under concurrency, not latency: generous deadlines keep a
  // slow or busy machine from turning queued calls into 504s.
  stack = await startStack(
    { REDIS_CLUSTER_NODES: inject("redisClusterNodes"), REDIS_COMMAND_TIMEOUT_MS: "20000" },
    { RPC_TIMEOUT_MS: "30000", RPC_ATTEMPT_TIMEOUT_MS: "30000" },
  );
  api = restClient(stack.edge.url, { connections: 256 });
});
afterAll(async () => {
  await api?.close();
  await stack?.stop();
});

it("stores 2,000 concurrent sends into one chat exactly once, in strict order (Redis Cluster)", { timeout: 60_000 }, async () => {
  const { chat, a, b } = uniqueChat();
  const count = 2_000;
  const replies = await Promise.all(
    Array.from({ length: count }, (_, i) =>
      api.call("POST", "/api/send", { json: { chat, sender: i % 2 ? a : b, text: `message ${i}` } }),
    ),
  );
  expect(replies.filter((reply) => reply.status !== 200)).toEqual([]);
  const acknowledged = replies.map((reply) => reply.body.message as { text: string; send_time: number });
  expect(new Set(acknowledged.map((m) => m.send_time)).size).toBe(count);

  const stored: { text: string; send_time: number }[] = [];
  let cursor = 0;
  for (;;) {
    const page = await api.call("GET", "/api/pull", { json: { chat, cursor, limit: 100 } });
    stored.push(...page.body.messages);
    if (!page.body.has_more) break;
    cursor = page.body.next_cursor;
  }
  expect(stored).toHaveLength(count);
  for (let i = 1; i < stored.length; i++) expect(stored[i]!.send_time).toBeGreaterThan(stored[i - 1]!.send_time);
  const byTime = [...acknowledged].sort((x, y) => x.send_time - y.send_time);
  expect(stored.map((m) => [m.text, m.send_time])).toEqual(byTime.map((m) => [m.text, m.send_time]));
  expect(new Set(stored.map((m) => m.text)).size).toBe(count);
});
