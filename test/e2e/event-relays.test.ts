import * as http from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { startStack, type Stack } from "../harness/services.js";
import { waitFor } from "../harness/wait.js";
import { openEventStream, type EventStream, type ReceivedEvent } from "../support/event-stream.js";
import { restClient, type RestClient } from "../support/http.js";
import { uniqueChat } from "../support/ids.js";
import { requireSample, sample } from "../support/metrics.js";

interface Sent {
  readonly chat: string;
  readonly text: string;
  readonly send_time: number;
}

/**
 * The edge serves every stream of a chat from one relay (one Subscribe call per chat per
 * edge process); a stream catches up on a call of its own and joins the relay at its
 * position. These tests check the sharing and that joining, at any moment of a busy chat,
 * neither skips nor repeats a message.
 */
describe("event streams share one subscription per chat at the edge", () => {
  let stack: Stack;
  let api: RestClient;
  const streams: EventStream[] = [];
  const open = async (query: string) => {
    const stream = await openEventStream(`${stack.edge.url}/api/events?${query}`);
    streams.push(stream);
    return stream;
  };
  const send = async (chat: string, sender: string, text: string): Promise<Sent> => {
    const reply = await api.call("POST", "/api/send", { json: { chat, sender, text } });
    expect(reply.status).toBe(200);
    return reply.body.message as Sent;
  };
  const history = async (chat: string): Promise<number[]> => {
    const times: number[] = [];
    for (let cursor = 0, more = true; more; ) {
      const reply = await api.call("GET", `/api/pull?chat=${chat}&cursor=${cursor}&limit=100`);
      expect(reply.status).toBe(200);
      times.push(...(reply.body.messages as Sent[]).map((message) => message.send_time));
      more = reply.body.has_more as boolean;
      cursor = reply.body.next_cursor as number;
    }
    return times;
  };
  /** Subscribe calls the service has ended with `code`. */
  const calls = async (code: string) =>
    (await sample(stack.message.metricsUrl, "rpc_server_duration_seconds_count", { rpc_method: "Subscribe", rpc_code: code })) ?? 0;
  const starts = async (how: string) => (await sample(stack.edge.metricsUrl, "event_streams_started_total", { start: how })) ?? 0;
  const timesIn = (events: readonly ReceivedEvent[], chat: string) =>
    events.filter((event) => event.type === "message" && event.data.chat === chat).map((event) => event.data.send_time as number);

  beforeAll(async () => {
    stack = await startStack({ REDIS_URL: inject("redisUrl") }, {});
    api = restClient(stack.edge.url, { connections: 4 });
  });
  afterAll(async () => {
    for (const stream of streams) stream.close();
    await api?.close();
    await stack?.stop();
  });

  it("serves a chat's streams with one call to the service however many watch it, each getting every message", async () => {
    const { chat, a } = uniqueChat();
    const before = await send(chat, a, "before");
    const watchers = await Promise.all([
      ...Array.from({ length: 10 }, () => open(`chat=${chat}`)),
      ...Array.from({ length: 5 }, () => open(`chat=${chat}&cursor=${before.send_time}`)),
    ]);
    // The catch-up calls end once every stream has joined the relay: one call is left.
    await waitFor("one relay and one subscription", async () => {
      const relays = await requireSample(stack.edge.metricsUrl, "chat_relays_open");
      const subscriptions = await requireSample(stack.message.metricsUrl, "subscriptions_open");
      return relays === 1 && subscriptions === 1;
    });
    expect(await requireSample(stack.edge.metricsUrl, "event_streams_open")).toBe(15);
    const live = [await send(chat, a, "one"), await send(chat, a, "two")];
    for (const [i, stream] of watchers.entries()) {
      const expected = i < 10 ? live : [before, ...live];
      expect((await stream.until(expected.length)).map(({ data }) => data.send_time)).toEqual(expected.map((m) => m.send_time));
    }
    await sleep(200);
    expect(watchers.map((stream) => stream.events.length)).toEqual(watchers.map((_, i) => (i < 10 ? 2 : 3)));
  });

  it("starts streams that resume at their relays' position without calling the service", async () => {
    const { chat, a } = uniqueChat();
    const first = await open(`chat=${chat}`);
    await send(chat, a, "one");
    const { id } = (await first.until(1))[0]!;
    const before = { calls: await calls("ok"), relayStarts: await starts("relay") };
    const resumed = await Promise.all(Array.from({ length: 20 }, () => open(`chat=${chat}&last_event_id=${id}`)));
    expect(await starts("relay")).toBe(before.relayStarts + 20);
    const two = await send(chat, a, "two");
    for (const stream of resumed) expect((await stream.until(1)).map(({ data }) => data.send_time)).toEqual([two.send_time]);
    expect(await calls("ok")).toBe(before.calls);
    expect(await requireSample(stack.message.metricsUrl, "subscriptions_open")).toBe(await requireSample(stack.edge.metricsUrl, "chat_relays_open"));
  });

  it("answers bursts of streams opening and leaving with 200s: catching up costs the service no stream resets", { timeout: 60_000 }, async () => {
    // HTTP/2 servers close a connection whose peer resets streams too fast (1,000 at once by
    // default, against "rapid reset" attacks): catch-up calls must end on the service's side.
    const { chat, a } = uniqueChat();
    await send(chat, a, "hello");
    const agent = new http.Agent({ keepAlive: false, maxSockets: Infinity });
    const burst = () =>
      Promise.all(
        Array.from(
          { length: 1_500 },
          () =>
            new Promise<{ status: number; request: http.ClientRequest }>((resolve, reject) => {
              // From the first message: each stream needs a catch-up call.
              const request = http.get(`${stack.edge.url}/api/events?chat=${chat}&cursor=1`, { agent }, (response) =>
                resolve({ status: response.statusCode ?? 0, request }),
              );
              request.on("error", reject);
            }),
        ),
      );
    const held = await requireSample(stack.edge.metricsUrl, "event_streams_open");
    const codes = ["ok", "canceled", "internal", "unimplemented", "unavailable", "unknown"];
    const before = new Map(await Promise.all(codes.map(async (code) => [code, await calls(code)] as const)));
    const ended = async (code: string) => (await calls(code)) - before.get(code)!;
    for (let round = 0; round < 2; round++) {
      const opened = await burst();
      expect(opened.filter(({ status }) => status !== 200)).toEqual([]);
      for (const { request } of opened) request.destroy();
      await waitFor("the streams to be gone", async () => (await requireSample(stack.edge.metricsUrl, "event_streams_open")) === held);
    }
    agent.destroy();
    // 3,000 catch-up calls, ended by the service: none failed, a few at most were cut by
    // their client leaving. (Calls the edge resets show as canceled, or, reset before the
    // service has read them, as unimplemented.)
    expect(await ended("ok")).toBeGreaterThanOrEqual(3_000);
    expect(await ended("canceled")).toBeLessThan(30);
    for (const code of codes.slice(2)) expect(await ended(code), code).toBe(0);
  });

  it("streams that open, drop and resume while chats are busy get their history exactly once, in order", { timeout: 60_000 }, async () => {
    const chats = [uniqueChat(), uniqueChat()];
    const total = 400;
    let sent = 0;
    const sender = (async () => {
      for (; sent < total; sent++) {
        const { chat, a } = chats[sent % 2]!;
        await send(chat, a, `m${sent}`);
      }
    })();
    const query = chats.map(({ chat }) => `chat=${chat}`).join("&");

    // A reader starts at some point of the sending, replaying both chats from their first
    // message, and drops its stream and resumes from the last id it got, again and again.
    const reader = async (startAfter: number, seed: number) => {
      let random = seed;
      const next = () => ((random = (random * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
      await waitFor("the sender to get going", () => sent >= startAfter, { timeoutMs: 30_000 });
      const received: ReceivedEvent[] = [];
      let resume = "";
      while (sent < total) {
        const stream = await open(resume === "" ? `${query}&cursor=1` : `${query}&last_event_id=${resume}`);
        await sleep(20 + next() * 150);
        stream.close();
        received.push(...stream.events);
        resume = received.at(-1)?.id ?? resume;
      }
      // The last stream stays until it has everything.
      const last = await open(resume === "" ? `${query}&cursor=1` : `${query}&last_event_id=${resume}`);
      await waitFor(
        "the reader to have every message",
        () => received.length + last.events.length >= total,
        { timeoutMs: 20_000 },
      ).catch(() => undefined);
      last.close();
      return [...received, ...last.events];
    };

    const readers = await Promise.all([reader(0, 1), reader(60, 2), reader(150, 3), reader(250, 4)]);
    await sender;
    for (const received of readers) {
      expect(received.filter((event) => event.type === "reset")).toEqual([]);
      for (const { chat } of chats) expect(timesIn(received, chat)).toEqual(await history(chat));
    }
  });
});
