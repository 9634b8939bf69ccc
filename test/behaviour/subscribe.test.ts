import { Code, ConnectError } from "@connectrpc/connect";
import { encodeChatUser, ResetReason } from "@chat/proto";
import { beforeAll, describe, expect, it } from "vitest";
import { waitFor } from "../harness/wait.js";
import { uniqueChat } from "../support/ids.js";
import { engineNames } from "./engines.js";
import { subscribe, textsOf } from "./live-stream.js";
import { engineSuite, type Service } from "./suite.js";

describe.each(engineNames)("Subscribe on the %s engine", (engine) => {
  const { open, watch } = engineSuite(engine);
  let client: Service;
  beforeAll(async () => {
    ({ client } = await open());
  });

  it("delivers the messages stored after it opened, in order, with canonical chat ids, each once", async () => {
    const { a, b } = uniqueChat();
    await client.send({ chat: `${a}:${b}`, sender: a, text: "before" });
    const stream = await watch(client, { chats: [{ chat: `${b}:${a}` }] });
    const sent = [];
    for (const text of ["one", "two", "three"]) sent.push((await client.send({ chat: `${b}:${a}`, sender: b, text })).message!);
    const events = await stream.until(3);
    expect(events.map((event) => event.event.value)).toEqual(sent);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(stream.events).toHaveLength(3);
  });

  it("replays from a cursor (inclusive), then goes live without a seam while sends go on", async () => {
    const { chat, a, b } = uniqueChat();
    const early = [];
    for (let i = 0; i < 20; i++) early.push((await client.send({ chat, sender: a, text: `early${i}` })).message!);
    const concurrent = Promise.all(Array.from({ length: 20 }, (_, i) => client.send({ chat, sender: b, text: `late${i}` })));
    const stream = await watch(client, { chats: [{ chat, cursor: early[5]!.sendTime }] });
    await concurrent;
    const stored = (await client.pull({ chat, cursor: early[5]!.sendTime, limit: 50 })).messages;
    expect(stored).toHaveLength(35);
    const events = await stream.until(35);
    expect(events.map((event) => event.event.value)).toEqual(stored);
  });

  it("with end_when_caught_up, names the chats in ready, sends the backlog and ends by itself", async () => {
    const one = uniqueChat();
    const two = uniqueChat();
    const stored = [];
    for (let i = 0; i < 5; i++) stored.push((await client.send({ chat: one.chat, sender: one.a, text: `${i}` })).message!);
    const responses = [];
    const request = { chats: [{ chat: `${one.b}:${one.a}`, cursor: stored[1]!.sendTime }, { chat: two.chat }], endWhenCaughtUp: true };
    for await (const response of client.subscribe(request, { timeoutMs: 5_000 })) responses.push(response);
    expect(responses[0]!.event).toEqual({ case: "ready", value: expect.objectContaining({ chats: [one.chat, two.chat] }) });
    expect(responses.slice(1).map((response) => response.event.value)).toEqual(stored.slice(1));
  });

  it("watches several chats in one stream, each in order, naming a chat twice watches it once", async () => {
    const chats = [uniqueChat(), uniqueChat(), uniqueChat()];
    const stream = await watch(client, {
      chats: [...chats.map(({ chat }) => ({ chat })), { chat: `${chats[0]!.b}:${chats[0]!.a}` }],
    });
    for (let i = 0; i < 9; i++) {
      const { chat, a } = chats[i % 3]!;
      await client.send({ chat, sender: a, text: `${i}` });
    }
    const events = await stream.until(9);
    for (const [index, { chat }] of chats.entries()) {
      const own = events.filter((event) => event.event.case === "message" && event.event.value.chat === chat);
      expect(textsOf(own)).toEqual([index, index + 3, index + 6].map(String));
    }
  });

  it("resumes right after the last event received: nothing missed, nothing repeated", async () => {
    const { chat, a } = uniqueChat();
    const first = await watch(client, { chats: [{ chat }] });
    for (const text of ["1", "2", "3"]) await client.send({ chat, sender: a, text });
    await first.until(2);
    first.close();
    const token = first.events[1]!.resumeToken;
    for (const text of ["4", "5"]) await client.send({ chat, sender: a, text });
    const resumed = await watch(client, { chats: [{ chat }], resumeToken: token });
    await client.send({ chat, sender: a, text: "6" });
    expect(textsOf(await resumed.until(4))).toEqual(["3", "4", "5", "6"]);
  });

  it("says reset (trimmed) when retention removed messages after the resume point, then carries on live", async () => {
    const { client: trimming } = await open({ retention: { maxMessages: 3, maxAgeSeconds: 0 } });
    const { chat, a } = uniqueChat();
    const first = await watch(trimming, { chats: [{ chat }] });
    await trimming.send({ chat, sender: a, text: "seen" });
    await first.until(1);
    first.close();
    for (let i = 0; i < 6; i++) await trimming.send({ chat, sender: a, text: `missed${i}` });
    const resumed = await watch(trimming, { chats: [{ chat }], resumeToken: first.lastToken() });
    await trimming.send({ chat, sender: a, text: "after" });
    const [reset, next] = await resumed.until(2);
    expect(reset!.event).toMatchObject({ case: "reset", value: { chat, reason: ResetReason.TRIMMED, message: expect.stringMatching(/pull its history again/) } });
    expect(textsOf([next!])).toEqual(["after"]);
    // A resume from the reset's token goes on from there without another reset.
    const again = await watch(trimming, { chats: [{ chat }], resumeToken: reset!.resumeToken });
    expect(textsOf(await again.until(1))).toEqual(["after"]);
  });

  it("sends heartbeats while nothing happens", async () => {
    const { client: beating } = await open({}, { subscribe: { heartbeatMs: 100 } });
    const stream = await watch(beating, { chats: [{ chat: uniqueChat().chat }] });
    await waitFor("two heartbeats", () => stream.heartbeats >= 2, { timeoutMs: 5_000 });
    expect(stream.events).toEqual([]);
  });

  it("drops a slow subscriber's queued messages for a reset (lagging) and goes on from the chat's end", async () => {
    // In process: over a socket, its buffers would take the messages nobody reads.
    const { client: bounded } = await open({}, { subscribe: { queueLimit: 10 }, over: "in-process" });
    const { chat, a } = uniqueChat();
    const controller = new AbortController();
    const iterator = bounded.subscribe({ chats: [{ chat }] }, { signal: controller.signal })[Symbol.asyncIterator]();
    try {
      expect((await iterator.next()).value?.event.case).toBe("ready");
      // Nobody reads while 30 messages are stored: at most 10 wait, the rest become a reset.
      for (let i = 0; i < 30; i++) await bounded.send({ chat, sender: a, text: `m${i}` });
      await new Promise((resolve) => setTimeout(resolve, 200));
      const seen = [];
      for (let next = await iterator.next(); !next.done; next = await iterator.next()) {
        seen.push(next.value);
        if (next.value.event.case === "reset") break;
      }
      expect(seen.at(-1)!.event).toMatchObject({ case: "reset", value: { chat, reason: ResetReason.LAGGING } });
      expect(seen.length).toBeLessThanOrEqual(11);
      // After the reset: what was queued after it, without a gap, then live.
      await bounded.send({ chat, sender: a, text: "later" });
      const after = [];
      for (let next = await iterator.next(); !next.done; next = await iterator.next()) {
        after.push(next.value);
        if (next.value.event.case === "message" && next.value.event.value.text === "later") break;
      }
      const texts = textsOf(after);
      const first = Number(texts[0] === "later" ? 30 : texts[0]!.slice(1));
      expect(texts).toEqual([...Array.from({ length: 30 - first }, (_, i) => `m${first + i}`), "later"]);
    } finally {
      controller.abort();
    }
  });

  it.each([
    [{ chats: [] }, /name at least one chat/],
    [{ chats: Array.from({ length: 101 }, () => ({ chat: uniqueChat().chat })) }, /at most 100 chats; this one names 101/],
    [{ chats: [{ chat: "a:b:c" }] }, /exactly two member ids/],
    [{ chats: [{ chat: "a:b", cursor: -1n }] }, /cursor of chat "a:b" must be 0 or a send_time/],
    [{ chats: [{ chat: "a:b" }], resumeToken: "not a token!" }, /resume_token is malformed/],
    [{ chats: [{ chat: "a:b" }], resumeToken: "aGVsbG8" }, /resume_token is malformed/],
  ])("refuses %o with InvalidArgument before anything streams", async (request, message) => {
    const error = await subscribe(client, request).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ConnectError);
    expect(error).toMatchObject({ code: Code.InvalidArgument, rawMessage: expect.stringMatching(message) });
  });

  it("lets a user watch only chats they are a member of", async () => {
    const { client: guarded } = await open({}, { requireUser: true });
    const { chat, a } = uniqueChat();
    const other = uniqueChat();
    const as = (user: string) => ({ headers: { "chat-user": encodeChatUser(user) } });
    const refused = await subscribe(
      { ...guarded, subscribe: (request, options) => guarded.subscribe(request, { ...options, ...as(a) }) },
      { chats: [{ chat }, { chat: other.chat }] },
    ).catch((caught: unknown) => caught);
    expect(refused).toMatchObject({ code: Code.PermissionDenied, rawMessage: `you are not a member of chat "${other.chat}"` });
    const anonymous = await subscribe(guarded, { chats: [{ chat }] }).catch((caught: unknown) => caught);
    expect(anonymous).toMatchObject({ code: Code.Unauthenticated });
  });
});
