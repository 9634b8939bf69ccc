import { Code, createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { MessageService } from "@chat/proto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTcpBalancer, type TcpBalancer } from "../harness/tcp-balancer.js";
import { startService, startStack, type ServiceProcess, type Stack } from "../harness/services.js";
import { waitFor } from "../harness/wait.js";
import { restClient, type RestClient } from "../support/http.js";
import { uniqueChat } from "../support/ids.js";
import { requireSample, sample } from "../support/metrics.js";

describe("the message service port", () => {
  let service: ServiceProcess;
  beforeAll(async () => {
    service = await startService("message");
  });
  afterAll(() => service?.stop());

  it.each([
    ["Connect over HTTP/1.1 (JSON)", () => createConnectTransport({ baseUrl: service.url, httpVersion: "1.1" })],
    ["Connect over HTTP/1.1 (binary, as the edge calls it)", () => createConnectTransport({ baseUrl: service.url, httpVersion: "1.1", useBinaryFormat: true })],
    ["Connect over h2c", () => createConnectTransport({ baseUrl: service.url, httpVersion: "2" })],
    ["gRPC over h2c", () => createGrpcTransport({ baseUrl: service.url })],
    ["gRPC-Web over HTTP/1.1", () => createGrpcWebTransport({ baseUrl: service.url, httpVersion: "1.1" })],
  ])("serves %s", async (_name, transport) => {
    const client = createClient(MessageService, transport());
    const { chat, a } = uniqueChat();
    const { message } = await client.send({ chat, sender: a, text: "over the wire" });
    const page = await client.pull({ chat });
    expect(page.messages).toEqual([message]);
  });

  it("answers errors in binary Connect calls as Connect errors, and refuses an undecodable body", async () => {
    const client = createClient(MessageService, createConnectTransport({ baseUrl: service.url, httpVersion: "1.1", useBinaryFormat: true }));
    const error = await client.send({ chat: "a:b", sender: "c", text: "x" }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: Code.InvalidArgument, rawMessage: 'sender "c" is not a member of chat "a:b"' });
    const garbage = await fetch(`${service.url}/chat.v1.MessageService/Send`, {
      method: "POST",
      headers: { "content-type": "application/proto" },
      body: new Uint8Array([0xff, 0xff, 0xff]),
    });
    expect(garbage.status).toBe(400);
    expect(await garbage.json()).toMatchObject({ code: "invalid_argument" });
    expect(service.process.exitCode).toBeNull();
  });

  it("serves SendBatch in binary Connect calls, with or without a deadline, listening on the call's signal without warnings", async () => {
    const client = createClient(MessageService, createConnectTransport({ baseUrl: service.url, httpVersion: "1.1", useBinaryFormat: true }));
    const { chat, a } = uniqueChat();
    const items = Array.from({ length: 64 }, (_, i) => ({ request: { chat, sender: a, text: `b${i}` } }));
    for (const timeoutMs of [undefined, 5_000]) {
      const { results } = await client.sendBatch({ items }, { timeoutMs });
      expect(results.map((result) => result.result.case)).toEqual(items.map(() => "message"));
    }
    const first = await client.pull({ chat, limit: 100 });
    const rest = await client.pull({ chat, limit: 100, cursor: first.nextCursor });
    expect([first.messages.length, rest.messages.length, rest.hasMore]).toEqual([100, 28, false]);
    expect(service.stderr()).not.toMatch(/Warning/);
  });

  it("answers health probes beside the RPC routes", async () => {
    expect(await (await fetch(`${service.url}/healthz`)).json()).toEqual({ status: "ok" });
    expect(await (await fetch(`${service.url}/readyz`)).json()).toEqual({ status: "ready" });
    expect((await fetch(`${service.url}/nothing`)).status).toBe(404);
  });
});

describe("edge to service load spreading behind a connection-level balancer", () => {
  let replicas: ServiceProcess[];
  let balancer: TcpBalancer;
  let edge: ServiceProcess;
  let api: RestClient;

  beforeAll(async () => {
    // In-memory replicas: each keeps what it served, which shows where each call went.
    replicas = await Promise.all([startService("message"), startService("message")]);
    balancer = await startTcpBalancer([Number(new URL(replicas[0]!.url).port)]);
    edge = await startService("edge", { MESSAGE_SERVICE_URL: balancer.url, RPC_CONNECTION_MAX_AGE_MS: "200" });
    api = restClient(edge.url, { connections: 16 });
  });
  afterAll(async () => {
    await api?.close();
    await edge?.stop();
    await balancer?.close();
    await Promise.all(replicas?.map((replica) => replica.stop()) ?? []);
  });

  async function storedOn(replica: ServiceProcess, chat: string): Promise<number> {
    const client = createClient(MessageService, createConnectTransport({ baseUrl: replica.url, httpVersion: "1.1" }));
    return (await client.pull({ chat, limit: 100 })).messages.length;
  }

  it("spreads concurrent calls over replicas, and reaches a replica added later", async () => {
    const { chat, a } = uniqueChat();
    balancer.setBackends(replicas.map((replica) => Number(new URL(replica.url).port)));
    await Promise.all(Array.from({ length: 64 }, (_, i) => api.call("POST", "/api/send", { json: { chat, sender: a, text: `${i}` } })));
    const counts = await Promise.all(replicas.map((replica) => storedOn(replica, chat)));
    expect(counts[0]! + counts[1]!).toBe(64);
    expect(Math.min(...counts)).toBeGreaterThan(0);
  });

  it("moves even a single sequential caller to new replicas as connections retire", async () => {
    const { chat, a } = uniqueChat();
    // One call at a time reuses one keep-alive connection; its retirement after
    // RPC_CONNECTION_MAX_AGE_MS opens a new one, which the balancer sends elsewhere.
    await waitFor(
      "sequential calls to reach both replicas",
      async () => {
        await api.call("POST", "/api/send", { json: { chat, sender: a, text: "seq" } });
        const counts = await Promise.all(replicas.map((replica) => storedOn(replica, chat)));
        return counts.every((count) => count > 0);
      },
      { timeoutMs: 10_000, intervalMs: 50 },
    );
  });
});

describe.each([
  ["in SendBatch calls over HTTP/1.1 (the default)", {}, "SendBatch"],
  ["in SendBatch calls over h2c", { RPC_HTTP_VERSION: "2" }, "SendBatch"],
  ["one Send call per message (RPC_SEND_BATCH_MAX=1)", { RPC_SEND_BATCH_MAX: "1" }, "Send"],
] as const)("the edge sending %s", (_name, edgeEnv, rpcMethod) => {
  let stack: Stack;
  let api: RestClient;
  beforeAll(async () => {
    stack = await startStack({}, edgeEnv);
    api = restClient(stack.edge.url);
  });
  afterAll(async () => {
    await api?.close();
    await stack?.stop();
  });

  it("stores every one of many concurrent sends once, each answered with its own message", async () => {
    const { chat, a, b } = uniqueChat();
    const count = 300;
    const replies = await Promise.all(
      Array.from({ length: count }, (_, i) => api.call("POST", "/api/send", { json: { chat, sender: i % 2 ? a : b, text: `m${i}` } })),
    );
    expect(replies.map((reply) => reply.status)).toEqual(replies.map(() => 200));
    expect(replies.map((reply) => reply.body.message.text)).toEqual(replies.map((_, i) => `m${i}`));
    const acknowledged = replies.map((reply) => reply.body.message).sort((x, y) => x.send_time - y.send_time);
    const page = await api.call("GET", `/api/pull?chat=${chat}&limit=100`);
    const stored = [...page.body.messages];
    for (let cursor = page.body.next_cursor; cursor !== 0; ) {
      const next = await api.call("GET", `/api/pull?chat=${chat}&limit=100&cursor=${cursor}`);
      stored.push(...next.body.messages);
      cursor = next.body.next_cursor;
    }
    expect(stored).toEqual(acknowledged);

    // The sends reached the service in the calls this path makes: batches hold several.
    const batches = { rpc_method: "SendBatch", rpc_code: "ok" };
    if (rpcMethod === "SendBatch") {
      const calls = await requireSample(stack.message.metricsUrl, "rpc_server_duration_seconds_count", batches);
      expect(calls).toBeGreaterThan(0);
      expect(calls).toBeLessThan(count);
    } else {
      expect(await sample(stack.message.metricsUrl, "rpc_server_duration_seconds_count", batches)).toBeUndefined();
    }
    // Every message is counted as a Send of its own, in a batch or not.
    expect(await requireSample(stack.message.metricsUrl, "rpc_server_duration_seconds_count", { rpc_method: "Send", rpc_code: "ok" })).toBe(count);
    expect(stack.message.stderr() + stack.edge.stderr()).not.toMatch(/Warning/);
  });
});
