import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { startStack, type Stack } from "../harness/services.js";
import { startTcpBalancer, type TcpBalancer } from "../harness/tcp-balancer.js";
import { waitFor } from "../harness/wait.js";
import { openEventStream, type EventStream } from "../support/event-stream.js";
import { restClient, type RestClient } from "../support/http.js";
import { uniqueChat } from "../support/ids.js";

describe("GET /api/events (Server-Sent Events through the real edge)", () => {
  let stack: Stack;
  let api: RestClient;
  let proxy: TcpBalancer;
  const streams: EventStream[] = [];
  const open = async (query: string, headers?: Record<string, string>, base = stack.edge.url) => {
    const stream = await openEventStream(`${base}/api/events?${query}`, headers);
    streams.push(stream);
    return stream;
  };
  const send = async (chat: string, sender: string, text: string) => {
    const reply = await api.call("POST", "/api/send", { json: { chat, sender, text } });
    expect(reply.status).toBe(200);
    return reply.body.message as { chat: string; text: string; sender: string; send_time: number };
  };

  beforeAll(async () => {
    stack = await startStack({ REDIS_URL: inject("redisUrl") }, { SSE_HEARTBEAT_MS: "1000", MAX_STREAMS: "20", MAX_IN_FLIGHT: "4" });
    api = restClient(stack.edge.url);
    proxy = await startTcpBalancer([Number(new URL(stack.edge.url).port)]);
  });
  afterAll(async () => {
    for (const stream of streams) stream.close();
    await api?.close();
    await proxy?.close();
    await stack?.stop();
  });

  it("streams each message stored after it opened, as pull shows it, with an id to resume from", async () => {
    const { a, b } = uniqueChat();
    await send(`${a}:${b}`, a, "before");
    const stream = await open(`chat=${encodeURIComponent(`${b}:${a}`)}`);
    const sent = [await send(`${a}:${b}`, a, "one"), await send(`${b}:${a}`, b, "two")];
    const events = await stream.until(2);
    expect(events.map(({ type, data }) => ({ type, data }))).toEqual(sent.map((data) => ({ type: "message", data })));
    expect(events.every(({ id }) => /^[A-Za-z0-9_-]+$/.test(id))).toBe(true);
    const pulled = await api.call("GET", `/api/pull?chat=${encodeURIComponent(`${a}:${b}`)}&cursor=${sent[0]!.send_time}`);
    expect(events.map(({ data }) => data)).toEqual(pulled.body.messages);
  });

  it("answers with the headers a stream needs, a retry hint, and heartbeats while idle", async () => {
    const controller = new AbortController();
    const reply = await fetch(`${stack.edge.url}/api/events?chat=${uniqueChat().chat}`, { signal: controller.signal });
    try {
      expect(reply.status).toBe(200);
      expect(reply.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
      expect(reply.headers.get("cache-control")).toBe("no-store");
      expect(reply.headers.get("x-accel-buffering")).toBe("no");
      const reader = reply.body!.getReader();
      let text = "";
      const started = Date.now();
      while ((text.match(/^: ?keep-alive$/gm) ?? []).length < 2) text += new TextDecoder().decode((await reader.read()).value);
      expect(text).toMatch(/^retry: ?2000$/m);
      // SSE_HEARTBEAT_MS=1000: two heartbeats in well under the 15 s default.
      expect(Date.now() - started).toBeLessThan(6_000);
    } finally {
      controller.abort();
    }
  });

  it("resumes with Last-Event-ID (or last_event_id) after a disconnect: nothing missed, nothing repeated", async () => {
    const { chat, a } = uniqueChat();
    const first = await open(`chat=${chat}`);
    await send(chat, a, "1");
    await send(chat, a, "2");
    const [, second] = await first.until(2);
    first.close();
    for (const text of ["3", "4", "5"]) await send(chat, a, text);
    const byHeader = await open(`chat=${chat}`, { "last-event-id": second!.id });
    const byQuery = await open(`chat=${chat}&last_event_id=${second!.id}`);
    await send(chat, a, "6");
    for (const stream of [byHeader, byQuery]) {
      expect((await stream.until(4)).map(({ data }) => data.text)).toEqual(["3", "4", "5", "6"]);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(byHeader.events).toHaveLength(4);
  });

  it("reconnects by itself when the connection drops, as a browser does, and misses nothing", async () => {
    const { chat, a } = uniqueChat();
    const stream = await open(`chat=${chat}`, {}, proxy.url);
    await send(chat, a, "before the drop");
    await stream.until(1);
    proxy.dropConnections();
    for (const text of ["while away 1", "while away 2"]) await send(chat, a, text);
    await waitFor("the client to reconnect", () => stream.opens() >= 2, { timeoutMs: 15_000 });
    await send(chat, a, "after");
    expect((await stream.until(4)).map(({ data }) => data.text)).toEqual(["before the drop", "while away 1", "while away 2", "after"]);
  });

  it("replays from a cursor (inclusive), then goes live", async () => {
    const { chat, a } = uniqueChat();
    const sent = [await send(chat, a, "old"), await send(chat, a, "from here"), await send(chat, a, "next")];
    const stream = await open(`chat=${chat}&cursor=${sent[1]!.send_time}`);
    await send(chat, a, "live");
    expect((await stream.until(3)).map(({ data }) => data.text)).toEqual(["from here", "next", "live"]);
  });

  it("watches several chats in one stream", async () => {
    const one = uniqueChat();
    const two = uniqueChat();
    const stream = await open(`chat=${one.chat}&chat=${two.chat}`);
    await send(one.chat, one.a, "to one");
    await send(two.chat, two.b, "to two");
    const events = await stream.until(2);
    expect(events.map(({ data }) => [data.chat, data.text])).toEqual([
      [one.chat, "to one"],
      [two.chat, "to two"],
    ]);
  });

  it.each([
    ["no chat", "", 400, /name the chats to watch/],
    ["a bad chat", "chat=a:b:c", 400, /exactly two member ids/],
    ["101 chats", Array.from({ length: 101 }, () => `chat=${uniqueChat().chat}`).join("&"), 400, /at most 100 chats per stream; this one names 101/],
    ["a bad cursor", "chat=a:b&cursor=soon", 400, /cursor must be a whole number/],
    ["a bad resume id", "chat=a:b&last_event_id=not-a-token", 400, /resume_token is malformed/],
    ["an unknown parameter", "chat=a:b&colour=blue", 400, /unknown query parameter "colour"/],
  ])("answers %s with %i and a JSON error before any event", async (_what, query, status, message) => {
    const reply = await api.call("GET", `/api/events?${query}`);
    expect(reply.status).toBe(status);
    expect(reply.headers["content-type"]).toMatch(/^application\/json/);
    expect(reply.body.error.message).toMatch(message);
  });

  it("keeps streams out of the request in-flight limit, and has a limit of its own (503 with Retry-After)", async () => {
    const held = await Promise.all(Array.from({ length: 20 - streams.filter((s) => s.source.readyState === 1).length }, () => open(`chat=${uniqueChat().chat}`)));
    const refused = await api.call("GET", `/api/events?chat=${uniqueChat().chat}`);
    expect(refused.status).toBe(503);
    expect(refused.headers["retry-after"]).toMatch(/^[1-9]\d*$/);
    expect(refused.body.error.message).toMatch(/most event streams \(20\)/);
    // MAX_IN_FLIGHT is 4 and 20 streams are open: requests still go through.
    const { chat, a } = uniqueChat();
    for (let i = 0; i < 5; i++) await send(chat, a, `m${i}`);
    for (const stream of held) stream.close();
    await waitFor("a stream slot to free", async () => (await api.call("GET", "/readyz")).status === 200);
  });
});
