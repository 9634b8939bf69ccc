import { Code, ConnectError, type Client } from "@connectrpc/connect";
import type { Message, MessageService } from "@chat/proto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { MessageStore } from "../../services/message/src/store/store.js";
import { waitFor } from "../harness/wait.js";
import { uniqueChat } from "../support/ids.js";
import { engineNames, openEngine, serviceClient, type EngineOptions, type Service } from "./engines.js";

type MessageClient = Client<typeof MessageService>;

const times = (messages: readonly Message[]) => messages.map((message) => message.sendTime);
const texts = (messages: readonly Message[]) => messages.map((message) => message.text);

async function sendAll(client: MessageClient, chat: string, sender: string, prefix: string, count: number) {
  const sent: Message[] = [];
  for (let i = 0; i < count; i++) sent.push((await client.send({ chat, sender, text: `${prefix}${i}` })).message!);
  return sent;
}

/** Every message of a chat in one direction, following next_cursor, with a hook between pages. */
async function walk(client: MessageClient, chat: string, reverse: boolean, between: () => Promise<void> = async () => {}) {
  const seen: Message[] = [];
  let cursor = 0n;
  for (let pages = 0; pages < 1_000; pages++) {
    const page = await client.pull({ chat, cursor, limit: 3, reverse });
    seen.push(...page.messages);
    if (!page.hasMore) return seen;
    cursor = page.nextCursor;
    await between();
  }
  throw new Error("pagination does not end");
}

function strictlyOrdered(values: readonly bigint[], reverse = false): boolean {
  return values.every((value, i) => i === 0 || (reverse ? value < values[i - 1]! : value > values[i - 1]!));
}

describe.each(engineNames)("retention, retry keys and history_start on the %s engine", (engine) => {
  const stores: MessageStore[] = [];
  const clients: Service[] = [];
  async function open(options: EngineOptions = {}): Promise<MessageClient> {
    const store = openEngine(engine, options);
    stores.push(store);
    await waitFor(`the ${engine} engine to be ready`, () => store.check().then(() => true));
    const client = await serviceClient(store);
    clients.push(client);
    return client;
  }
  let plain: MessageClient;
  beforeAll(async () => {
    plain = await open();
  });
  afterAll(async () => {
    for (const client of clients) client.close();
    await Promise.all(stores.map((store) => store.close()));
  });

  describe("history_start", () => {
    it("is 0 for a chat without messages, and the oldest message's send_time otherwise, in every direction", async () => {
      const { chat, a } = uniqueChat();
      expect((await plain.pull({ chat })).historyStart).toBe(0n);
      const sent = await sendAll(plain, chat, a, "m", 5);
      for (const request of [{ chat }, { chat, reverse: true }, { chat, cursor: sent[3]!.sendTime, limit: 1 }]) {
        expect((await plain.pull(request)).historyStart).toBe(sent[0]!.sendTime);
      }
    });
  });

  describe("by count", () => {
    it("keeps the newest messages only, and says where the retained history starts", async () => {
      const client = await open({ retention: { maxMessages: 5, maxAgeSeconds: 0 } });
      const { chat, a } = uniqueChat();
      const sent = await sendAll(client, chat, a, "m", 8);
      const page = await client.pull({ chat, limit: 50 });
      expect(texts(page.messages)).toEqual(["m3", "m4", "m5", "m6", "m7"]);
      expect(page.historyStart).toBe(sent[3]!.sendTime);
      expect(times(await walk(client, chat, false))).toEqual(times(sent.slice(3)));
      expect(times(await walk(client, chat, true))).toEqual(times(sent.slice(3)).reverse());
    });

    it("starts a pull whose cursor is older than the oldest retained message at that message", async () => {
      const client = await open({ retention: { maxMessages: 2, maxAgeSeconds: 0 } });
      const { chat, a } = uniqueChat();
      const sent = await sendAll(client, chat, a, "m", 4);
      const forward = await client.pull({ chat, cursor: sent[0]!.sendTime });
      expect(texts(forward.messages)).toEqual(["m2", "m3"]);
      const backward = await client.pull({ chat, cursor: sent[1]!.sendTime, reverse: true });
      expect(backward).toMatchObject({ messages: [], hasMore: false, nextCursor: 0n, historyStart: sent[2]!.sendTime });
    });

    it("never skips or repeats a retained message in a walk while sends trim the chat under it", async () => {
      const client = await open({ retention: { maxMessages: 10, maxAgeSeconds: 0 } });
      const { chat, a, b } = uniqueChat();
      await sendAll(client, chat, a, "before", 10);
      let sentDuring = 0;
      const seen = await walk(client, chat, false, async () => {
        if (sentDuring < 12) await sendAll(client, chat, b, `during${sentDuring++}-`, 1);
      });
      expect(strictlyOrdered(times(seen))).toBe(true);
      const retained = await walk(client, chat, false);
      expect(retained).toHaveLength(10);
      const seenTimes = new Set(times(seen));
      expect(times(retained).filter((time) => !seenTimes.has(time))).toEqual([]);
    });
  });

  describe("by age", () => {
    it("never returns a message older than the limit, and removes it with the next send", async () => {
      const client = await open({ retention: { maxMessages: 0, maxAgeSeconds: 1 } });
      const { chat, a } = uniqueChat();
      await sendAll(client, chat, a, "old", 3);
      await waitFor("the first messages to pass the age limit", async () => (await client.pull({ chat })).messages.length === 0, {
        timeoutMs: 5_000,
        intervalMs: 100,
      });
      expect((await client.pull({ chat })).historyStart).toBe(0n);
      const fresh = await sendAll(client, chat, a, "new", 2);
      const page = await client.pull({ chat });
      expect(texts(page.messages)).toEqual(["new0", "new1"]);
      expect(page.historyStart).toBe(fresh[0]!.sendTime);
      expect(texts((await client.pull({ chat, reverse: true })).messages)).toEqual(["new1", "new0"]);
    });
  });

  describe("retry keys", () => {
    const key = () => `rk${Math.random().toString(36).slice(2)}${Math.random().toString(36).slice(2)}`.slice(0, 24);

    it("stores a send once when a retry follows a first attempt that was stored", async () => {
      const { chat, a } = uniqueChat();
      const retryKey = key();
      const first = await plain.send({ chat, sender: a, text: "hi", retryKey: { key: retryKey, sinceFirstAttemptMs: 0n } });
      const retry = await plain.send({ chat, sender: a, text: "hi", retryKey: { key: retryKey, sinceFirstAttemptMs: 1_500n } });
      expect(retry.message).toEqual(first.message);
      expect(texts((await plain.pull({ chat })).messages)).toEqual(["hi"]);
    });

    it("stores a retry whose first attempt never arrived, and then no late first attempt or later retry", async () => {
      const { chat, a } = uniqueChat();
      const retryKey = key();
      const retry = await plain.send({ chat, sender: a, text: "hi", retryKey: { key: retryKey, sinceFirstAttemptMs: 200n } });
      const late = await plain.send({ chat, sender: a, text: "hi", retryKey: { key: retryKey, sinceFirstAttemptMs: 0n } });
      const again = await plain.send({ chat, sender: a, text: "hi", retryKey: { key: retryKey, sinceFirstAttemptMs: 900n } });
      expect(late.message).toEqual(retry.message);
      expect(again.message).toEqual(retry.message);
      expect((await plain.pull({ chat })).messages).toHaveLength(1);
    });

    it("refuses a retry key reused for a different message with AlreadyExists, naming the retry key", async () => {
      const { chat, a } = uniqueChat();
      const retryKey = key();
      await plain.send({ chat, sender: a, text: "first", retryKey: { key: retryKey, sinceFirstAttemptMs: 0n } });
      const error = await plain
        .send({ chat, sender: a, text: "other", retryKey: { key: retryKey, sinceFirstAttemptMs: 100n } })
        .catch((caught: unknown) => caught);
      expect(error).toMatchObject({ code: Code.AlreadyExists, rawMessage: expect.stringMatching(/^retry_key ".+" was already used for a different message/) });
      expect(texts((await plain.pull({ chat })).messages)).toEqual(["first"]);
    });

    it("keeps two sends with different retry keys apart, even with the same text", async () => {
      const { chat, a } = uniqueChat();
      await plain.send({ chat, sender: a, text: "same", retryKey: { key: key(), sinceFirstAttemptMs: 0n } });
      await plain.send({ chat, sender: a, text: "same", retryKey: { key: key(), sinceFirstAttemptMs: 300n } });
      expect(texts((await plain.pull({ chat })).messages)).toEqual(["same", "same"]);
    });

    it.each([
      [{ clientMessageId: "c-1", retryKey: { key: "k".repeat(16), sinceFirstAttemptMs: 0n } }, /client_message_id or retry_key, not both/],
      [{ retryKey: { key: "short", sinceFirstAttemptMs: 0n } }, /retry_key.key must be 16 to 64 characters/],
      [{ retryKey: { key: "k".repeat(15) + "!", sinceFirstAttemptMs: 0n } }, /retry_key.key must be 16 to 64 characters/],
      [{ retryKey: { key: "k".repeat(16), sinceFirstAttemptMs: -1n } }, /since_first_attempt_ms must be 0/],
      [{ retryKey: { key: "k".repeat(16), sinceFirstAttemptMs: 300_001n } }, /past the retry window \(300000 ms\)/],
    ])("refuses a bad retry key %o with InvalidArgument and stores nothing", async (fields, message) => {
      const { chat, a } = uniqueChat();
      const error = await plain.send({ chat, sender: a, text: "x", ...fields }).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(ConnectError);
      expect(error).toMatchObject({ code: Code.InvalidArgument, rawMessage: expect.stringMatching(message) });
      expect((await plain.pull({ chat })).messages).toEqual([]);
    });
  });

  describe("client_message_id and retention", () => {
    it("answers a retry whose message retention removed with its original send_time, without storing it again", async () => {
      const client = await open({ retention: { maxMessages: 1, maxAgeSeconds: 0 } });
      const { chat, a, b } = uniqueChat();
      const first = await client.send({ chat, sender: a, text: "keep me once", clientMessageId: "c-1" });
      await client.send({ chat, sender: b, text: "pushes it out" });
      const retry = await client.send({ chat, sender: a, text: "keep me once", clientMessageId: "c-1" });
      expect(retry.message).toEqual(first.message);
      expect(texts((await client.pull({ chat })).messages)).toEqual(["pushes it out"]);
    });
  });
});
