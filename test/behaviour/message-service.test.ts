import { Code, ConnectError, type Client } from "@connectrpc/connect";
import { encodeChatUser, type Message, type MessageService, type SendBatchResult } from "@chat/proto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { MessageStore } from "../../services/message/src/store/store.js";
import { waitFor } from "../harness/wait.js";
import { uniqueChat } from "../support/ids.js";
import { engineNames, openEngine, serviceClient, testLimits, type Service } from "./engines.js";

type MessageClient = Client<typeof MessageService>;

async function sendMany(client: MessageClient, chat: string, sender: string, texts: string[]) {
  const sent: Message[] = [];
  for (const text of texts) sent.push((await client.send({ chat, sender, text })).message!);
  return sent;
}

/** Follows next_cursor from `cursor` until has_more is false; returns every page. */
async function walk(client: MessageClient, chat: string, options: { limit: number; reverse: boolean; cursor?: bigint }) {
  const pages: Message[][] = [];
  let cursor = options.cursor ?? 0n;
  for (;;) {
    const page = await client.pull({ chat, cursor, limit: options.limit, reverse: options.reverse });
    pages.push(page.messages);
    if (!page.hasMore) {
      expect(page.nextCursor).toBe(0n);
      return pages;
    }
    expect(page.nextCursor).toBeGreaterThan(0n);
    cursor = page.nextCursor;
    if (pages.length > 10_000) throw new Error("pagination does not end");
  }
}

const texts = (messages: readonly Message[]) => messages.map((message) => message.text);

describe.each(engineNames)("message service on the %s engine", (engine) => {
  let store: MessageStore;
  let client: Service;

  beforeAll(async () => {
    store = openEngine(engine);
    await waitFor(`the ${engine} engine to be ready`, () => store.check().then(() => true));
    client = await serviceClient(store);
  });
  afterAll(async () => {
    client.close();
    await store.close();
  });

  it("stores a message and answers it with the canonical chat and a current send_time", async () => {
    const { a, b } = uniqueChat();
    const before = BigInt(Date.now() - 60_000) * 1000n;
    const { message } = await client.send({ chat: `${b}:${a}`, sender: b, text: "Hello World" });
    expect(message).toMatchObject({ chat: `${a}:${b}`, sender: b, text: "Hello World" });
    expect(message!.sendTime).toBeGreaterThan(before);
    expect(message!.sendTime).toBeLessThan(BigInt(Date.now() + 60_000) * 1000n);
  });

  it("treats a:b and b:a as one chat", async () => {
    const { a, b } = uniqueChat();
    await client.send({ chat: `${a}:${b}`, sender: a, text: "one" });
    await client.send({ chat: `${b}:${a}`, sender: b, text: "two" });
    for (const chat of [`${a}:${b}`, `${b}:${a}`]) {
      const page = await client.pull({ chat });
      expect(texts(page.messages)).toEqual(["one", "two"]);
      expect(page.messages.every((message) => message.chat === `${a}:${b}`)).toBe(true);
    }
  });

  it("keeps identical concurrent messages as distinct messages with unique, increasing send_times", async () => {
    const { chat, a } = uniqueChat();
    const replies = await Promise.all(
      Array.from({ length: 200 }, () => client.send({ chat, sender: a, text: "same text" })),
    );
    const times = replies.map((reply) => reply.message!.sendTime);
    expect(new Set(times).size).toBe(200);
    const stored = (await walk(client, chat, { limit: 50, reverse: false })).flat();
    expect(stored).toHaveLength(200);
    expect(stored.map((message) => message.sendTime)).toEqual([...times].sort((x, y) => (x < y ? -1 : 1)));
    for (let i = 1; i < stored.length; i++) expect(stored[i]!.sendTime).toBeGreaterThan(stored[i - 1]!.sendTime);
  });

  it("pages forward oldest to newest without skipping or repeating, cursor inclusive", async () => {
    const { chat, a } = uniqueChat();
    const sent = await sendMany(client, chat, a, Array.from({ length: 25 }, (_, i) => `m${i}`));
    const pages = await walk(client, chat, { limit: 10, reverse: false });
    expect(pages.map((page) => page.length)).toEqual([10, 10, 5]);
    expect(texts(pages.flat())).toEqual(texts(sent));

    const fromMiddle = await client.pull({ chat, cursor: sent[7]!.sendTime, limit: 3 });
    expect(texts(fromMiddle.messages)).toEqual(["m7", "m8", "m9"]);
    expect(fromMiddle).toMatchObject({ hasMore: true, nextCursor: sent[10]!.sendTime });

    const betweenMessages = await client.pull({ chat, cursor: sent[7]!.sendTime + 1n, limit: 1 });
    expect(texts(betweenMessages.messages)).toEqual(["m8"]);
  });

  it("pages backward newest to oldest when reverse is set", async () => {
    const { chat, a } = uniqueChat();
    const sent = await sendMany(client, chat, a, Array.from({ length: 23 }, (_, i) => `m${i}`));
    const pages = await walk(client, chat, { limit: 10, reverse: true });
    expect(pages.map((page) => page.length)).toEqual([10, 10, 3]);
    expect(texts(pages.flat())).toEqual(texts(sent).reverse());

    const fromMiddle = await client.pull({ chat, cursor: sent[7]!.sendTime, limit: 3, reverse: true });
    expect(texts(fromMiddle.messages)).toEqual(["m7", "m6", "m5"]);
    expect(fromMiddle).toMatchObject({ hasMore: true, nextCursor: sent[4]!.sendTime });

    const last = await client.pull({ chat, cursor: sent[2]!.sendTime, limit: 3, reverse: true });
    expect(texts(last.messages)).toEqual(["m2", "m1", "m0"]);
    expect(last).toMatchObject({ hasMore: false, nextCursor: 0n });
  });

  it("uses 10 as the default page size and caps limits at the maximum", async () => {
    const { chat, a } = uniqueChat();
    await sendMany(client, chat, a, Array.from({ length: testLimits.maxPullLimit + 5 }, (_, i) => `m${i}`));
    expect((await client.pull({ chat })).messages).toHaveLength(10);
    expect((await client.pull({ chat, limit: 1_000_000 })).messages).toHaveLength(testLimits.maxPullLimit);
  });

  it("answers an empty page for a chat without messages", async () => {
    const { chat } = uniqueChat();
    for (const reverse of [false, true]) {
      expect(await client.pull({ chat, reverse })).toMatchObject({ messages: [], hasMore: false, nextCursor: 0n });
    }
  });

  it("never skips or repeats while new messages arrive during a walk", async () => {
    const { chat, a, b } = uniqueChat();
    const before = await sendMany(client, chat, a, Array.from({ length: 30 }, (_, i) => `old${i}`));
    const seen: Message[] = [];
    let cursor = 0n;
    for (let round = 0; ; round++) {
      const page = await client.pull({ chat, cursor, limit: 7 });
      seen.push(...page.messages);
      await client.send({ chat, sender: b, text: `new${round}` });
      if (!page.hasMore) break;
      cursor = page.nextCursor;
    }
    const times = seen.map((message) => message.sendTime);
    expect(new Set(times).size).toBe(times.length);
    expect(texts(seen.slice(0, 30))).toEqual(texts(before));
    expect(times).toEqual([...times].sort((x, y) => (x < y ? -1 : 1)));
  });

  it("keeps chats apart, including ids with hash-tag braces", async () => {
    const { a } = uniqueChat();
    const pairs = [[`{${a}}`, "x"], [a, "x"], [`${a}}`, "{x"], [`{${a}`, "x}"], [`${a}{`, "}x"]] as const;
    const chats = pairs.map(([first, second]) => `${first}:${second}`);
    for (const [first, second] of pairs) {
      await client.send({ chat: `${first}:${second}`, sender: first, text: `in ${first}:${second}` });
    }
    for (const chat of chats) {
      expect(texts((await client.pull({ chat })).messages)).toEqual([`in ${chat}`]);
    }
  });

  it("returns text byte-exact", async () => {
    const { chat, a } = uniqueChat();
    const samples = ["NUL\u0000inside", "\u202eright-to-left", "emoji 😀👩‍👩‍👧", "  padded  ", "😀".repeat(testLimits.maxTextLength)];
    await sendMany(client, chat, a, samples);
    expect(texts((await client.pull({ chat, limit: 10 })).messages)).toEqual(samples);
  });

  it("stores a retried send with the same client_message_id once and answers the original", async () => {
    const { chat, a, b } = uniqueChat();
    const first = await client.send({ chat, sender: a, text: "pay 10", clientMessageId: "k-1" });
    const retry = await client.send({ chat: `${b}:${a}`, sender: a, text: "pay 10", clientMessageId: "k-1" });
    expect(retry.message).toEqual(first.message);
    const concurrent = await Promise.all(
      Array.from({ length: 20 }, () => client.send({ chat, sender: a, text: "once", clientMessageId: "k-2" })),
    );
    expect(new Set(concurrent.map((reply) => reply.message!.sendTime)).size).toBe(1);
    expect(texts((await client.pull({ chat })).messages)).toEqual(["pay 10", "once"]);
  });

  it("scopes client_message_id to one chat", async () => {
    const one = uniqueChat();
    const two = uniqueChat();
    await client.send({ chat: one.chat, sender: one.a, text: "hi", clientMessageId: "same" });
    await client.send({ chat: two.chat, sender: two.a, text: "hi", clientMessageId: "same" });
    expect((await client.pull({ chat: two.chat })).messages).toHaveLength(1);
  });

  it("refuses a reused client_message_id for a different message and stores nothing", async () => {
    const { chat, a, b } = uniqueChat();
    await client.send({ chat, sender: a, text: "original", clientMessageId: "k" });
    for (const change of [{ text: "changed", sender: a }, { text: "original", sender: b }]) {
      const error = await client.send({ chat, clientMessageId: "k", ...change }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConnectError);
      expect((error as ConnectError).code).toBe(Code.AlreadyExists);
    }
    expect(texts((await client.pull({ chat })).messages)).toEqual(["original"]);
  });

  it("stores identical sends without a client_message_id twice", async () => {
    const { chat, a } = uniqueChat();
    await client.send({ chat, sender: a, text: "twice" });
    await client.send({ chat, sender: a, text: "twice" });
    expect(texts((await client.pull({ chat })).messages)).toEqual(["twice", "twice"]);
  });

  it("rejects bad input with InvalidArgument and stores nothing", async () => {
    const { chat, a } = uniqueChat();
    const attempts = [
      client.send({ chat, sender: "intruder", text: "x" }),
      client.send({ chat, sender: a, text: "" }),
      client.send({ chat, sender: a, text: "x".repeat(testLimits.maxTextLength + 1) }),
      client.send({ chat: "nocolon", sender: a, text: "x" }),
      client.pull({ chat, limit: -5 }),
      client.pull({ chat, cursor: -1n }),
    ];
    for (const attempt of attempts) {
      const error = await attempt.catch((e: unknown) => e);
      expect((error as ConnectError).code).toBe(Code.InvalidArgument);
    }
    expect((await client.pull({ chat })).messages).toEqual([]);
  });

  describe("SendBatch", () => {
    const outcome = (result: SendBatchResult) =>
      result.result.case === "message" ? { text: result.result.value.text } : { code: result.result.case === "error" ? result.result.value.code : undefined };

    it("answers every item at its index as a Send of its own would, and stores only the valid ones", async () => {
      const one = uniqueChat();
      const two = uniqueChat();
      const earlier = await client.send({ chat: one.chat, sender: one.a, text: "earlier", clientMessageId: "k-earlier" });
      const { results } = await client.sendBatch({
        items: [
          { request: { chat: one.chat, sender: one.a, text: "first" } },
          { request: { chat: two.chat, sender: two.b, text: "elsewhere" } },
          { request: { chat: one.chat, sender: "intruder", text: "x" } },
          { request: { chat: one.chat, sender: one.b, text: "" } },
          { request: { chat: one.chat, sender: one.a, text: "earlier", clientMessageId: "k-earlier" } },
          { request: { chat: one.chat, sender: one.a, text: "changed", clientMessageId: "k-earlier" } },
          {},
          { request: { chat: `${one.b}:${one.a}`, sender: one.b, text: "last" } },
        ],
      });
      expect(results.map(outcome)).toEqual([
        { text: "first" },
        { text: "elsewhere" },
        { code: Code.InvalidArgument },
        { code: Code.InvalidArgument },
        { text: "earlier" },
        { code: Code.AlreadyExists },
        { code: Code.InvalidArgument },
        { text: "last" },
      ]);
      // A replayed item answers the original message, send_time included.
      expect(results[4]!.result.value).toEqual(earlier.message);
      expect(texts((await client.pull({ chat: one.chat })).messages).sort()).toEqual(["earlier", "first", "last"]);
      expect(texts((await client.pull({ chat: two.chat })).messages)).toEqual(["elsewhere"]);
    });

    it("keeps concurrent batches into one chat distinct, with unique increasing send_times", async () => {
      const { chat, a } = uniqueChat();
      const batches = await Promise.all(
        Array.from({ length: 4 }, (_, batch) =>
          client.sendBatch({ items: Array.from({ length: 50 }, (_, i) => ({ request: { chat, sender: a, text: `${batch}-${i}` } })) }),
        ),
      );
      const stored = batches.flatMap(({ results }) => results.map((result) => result.result.value as Message));
      expect(new Set(stored.map((message) => message.sendTime)).size).toBe(200);
      const pulled = (await walk(client, chat, { limit: 50, reverse: false })).flat();
      expect(pulled).toEqual([...stored].sort((x, y) => (x.sendTime < y.sendTime ? -1 : 1)));
    });

    it("checks each item's user when users are required", async () => {
      const guarded = await serviceClient(store, { requireUser: true });
      const { chat, a, b } = uniqueChat();
      const { results } = await guarded.sendBatch({
        items: [
          { request: { chat, sender: a, text: "mine" }, user: encodeChatUser(a) },
          { request: { chat, sender: a, text: "forged" }, user: encodeChatUser(b) },
          { request: { chat, sender: a, text: "anonymous" } },
        ],
      });
      guarded.close();
      expect(results.map(outcome)).toEqual([{ text: "mine" }, { code: Code.PermissionDenied }, { code: Code.Unauthenticated }]);
      expect(texts((await client.pull({ chat })).messages)).toEqual(["mine"]);
    });

    it("refuses a batch of more than 500 items whole", async () => {
      const { chat, a } = uniqueChat();
      const items = Array.from({ length: 501 }, () => ({ request: { chat, sender: a, text: "x" } }));
      const error = await client.sendBatch({ items }).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: Code.InvalidArgument, rawMessage: expect.stringMatching(/at most 500 items/) });
      expect((await client.pull({ chat })).messages).toEqual([]);
    });
  });
});
