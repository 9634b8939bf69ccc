import { Code } from "@connectrpc/connect";
import { Redis } from "ioredis";
import { createRedisClient } from "@chat/runtime";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { chatKeys, memberKeys } from "../../services/message/src/store/redis/keys.js";
import { MemoryStore } from "../../services/message/src/store/memory-store.js";
import type { MessageStore } from "../../services/message/src/store/store.js";
import { RedisStore } from "../../services/message/src/store/redis/redis-store.js";
import { startRedis, type RedisServer } from "../harness/redis.js";
import { uniqueChat } from "../support/ids.js";
import { waitFor } from "../harness/wait.js";
import { openEngine } from "./engines.js";

describe("redis engine internals", () => {
  let store: MessageStore;
  let redis: Redis;

  beforeAll(async () => {
    store = openEngine("redis");
    redis = new Redis(inject("redisUrl"));
    await waitFor("the redis engine to be ready", () => store.check().then(() => true));
  });
  afterAll(async () => {
    await store.close();
    redis.disconnect();
  });

  it("keeps send_time increasing when the newest message is ahead of the server clock", async () => {
    const { chat, a } = uniqueChat();
    const ahead = BigInt(Date.now() + 3_600_000) * 1000n;
    await redis.xadd(chatKeys(chat).messages, `${ahead}-0`, "s", a, "t", "from the future");
    const { message } = await store.append(chat, { sender: a, text: "now", clientMessageId: "" });
    expect(message.sendTime).toBe(ahead + 1n);
  });

  it("reads a page with bounded range commands only (O(log N + limit)), one round trip", async () => {
    const { chat, a } = uniqueChat();
    const sent = [];
    for (let i = 0; i < 30; i++) sent.push((await store.append(chat, { sender: a, text: `m${i}`, clientMessageId: "" })).message);
    const monitor = await redis.monitor();
    const commands: string[][] = [];
    monitor.on("monitor", (_time: string, args: string[]) => commands.push(args));
    const forward = await store.page(chat, { cursor: 0n, limit: 5, reverse: false });
    const reverse = await store.page(chat, { cursor: 0n, limit: 5, reverse: true });
    const fromCursor = await store.page(chat, { cursor: sent[10]!.sendTime, limit: 5, reverse: false });
    // MONITOR delivers asynchronously: wait for all five commands to show up.
    await waitFor("the page reads to show in MONITOR", () => commands.filter((c) => /^xr/.test(c[0] ?? "")).length >= 5);
    monitor.disconnect();
    const key = chatKeys(chat).messages;
    // A page that starts at the oldest message already holds history_start; others read it
    // with a second bounded command in the same pipeline.
    expect(commands.filter((c) => c[1] === key)).toEqual([
      ["xrange", key, "-", "+", "COUNT", "6"],
      ["xrevrange", key, "+", "-", "COUNT", "6"],
      ["xrange", key, "-", "+", "COUNT", "1"],
      ["xrange", key, `${sent[10]!.sendTime}-0`, "+", "COUNT", "6"],
      ["xrange", key, "-", "+", "COUNT", "1"],
    ]);
    for (const page of [forward, reverse, fromCursor]) expect(page.historyStart).toBe(sent[0]!.sendTime);
  });

  it("stores a message as one stream entry keyed by its send_time", async () => {
    const { chat, a } = uniqueChat();
    const { message } = await store.append(chat, { sender: a, text: "hi", clientMessageId: "" });
    // k holds the retry key; "" for a send without one. Nothing else is written.
    expect(await redis.xrange(chatKeys(chat).messages, "-", "+")).toEqual([[`${message.sendTime}-0`, ["s", a, "t", "hi", "k", ""]]]);
    expect(await redis.keys(`${chatKeys(chat).messages.replace(/:messages$/, "")}*`)).toEqual([chatKeys(chat).messages]);
  });

  it("records client_message_ids in the hash of the current day, expiring with the day after it (24 to 48 h)", async () => {
    const { chat, a } = uniqueChat();
    const { message } = await store.append(chat, { sender: a, text: "hi", clientMessageId: "k" });
    const generation = Math.floor(Date.now() / 86_400_000);
    const ids = chatKeys(chat).clientIds(generation);
    expect(await redis.hgetall(ids)).toEqual({ k: String(message.sendTime) });
    const expiresAt = await redis.call("PEXPIRETIME", ids);
    expect(expiresAt).toBe((generation + 2) * 86_400_000);
  });

  it("stores a retry key in the message only, and leaves a record only when a retry stored the message", async () => {
    const { chat, a } = uniqueChat();
    const prefix = chatKeys(chat).messages.replace(/:messages$/, "");
    const first = await store.append(chat, { sender: a, text: "one", clientMessageId: "", retryKey: { key: "K".repeat(16), sinceFirstAttemptMs: 0 } });
    expect(await redis.keys(`${prefix}*`)).toEqual([chatKeys(chat).messages]);
    const retried = await store.append(chat, { sender: a, text: "one", clientMessageId: "", retryKey: { key: "K".repeat(16), sinceFirstAttemptMs: 50 } });
    expect(retried).toEqual({ message: first.message, replayed: true });
    // A retry whose first attempt never arrived stores the message and a short record for it.
    const alone = await store.append(chat, { sender: a, text: "two", clientMessageId: "", retryKey: { key: "L".repeat(16), sinceFirstAttemptMs: 50 } });
    expect(alone.replayed).toBe(false);
    expect(await redis.get(chatKeys(chat).retryRecord("L".repeat(16)))).toBe(String(alone.message.sendTime));
    expect(await redis.pttl(chatKeys(chat).retryRecord("L".repeat(16)))).toBeGreaterThan(590_000);
    // The first attempt, delayed behind its retry, finds that record and stores nothing.
    const late = await store.append(chat, { sender: a, text: "two", clientMessageId: "", retryKey: { key: "L".repeat(16), sinceFirstAttemptMs: 0 } });
    expect(late).toEqual({ message: alone.message, replayed: true });
    expect(await redis.xlen(chatKeys(chat).messages)).toBe(2);
  });
});

describe("memory engine clock", () => {
  it("keeps send_time unique and increasing when the clock stands still or goes back", async () => {
    let now = 1_000_000n;
    const store = new MemoryStore({ clock: () => now });
    const first = await store.append("a:b", { sender: "a", text: "1", clientMessageId: "" });
    const second = await store.append("a:b", { sender: "a", text: "2", clientMessageId: "" });
    now = 5n;
    const third = await store.append("a:b", { sender: "a", text: "3", clientMessageId: "" });
    expect([first, second, third].map((r) => r.message.sendTime)).toEqual([1_000_000n, 1_000_001n, 1_000_002n]);
    await store.close();
  });
});

describe("cluster engine", () => {
  it("puts every key of a chat in one slot", async () => {
    const seed = inject("redisClusterNodes").split(",")[0]!;
    const node = new Redis(Number(seed.split(":")[1]), seed.split(":")[0]!);
    const keys = chatKeys("{weird}:x}{");
    const slots = await Promise.all(
      [keys.messages, keys.clientIds(1), keys.retryRecord("{b}")].map((key) => node.cluster("KEYSLOT", key)),
    );
    node.disconnect();
    expect(new Set(slots).size).toBe(1);
  });
});

describe("sends confirmed by replicas (WAIT)", () => {
  let primary: RedisServer;
  let replica: RedisServer;
  const stores: RedisStore[] = [];
  const open = async (options: { waitReplicas: number; waitTimeoutMs: number }) => {
    const client = createRedisClient(
      { kind: "standalone", url: primary.url },
      { username: undefined, password: undefined, tls: undefined },
      { commandTimeoutMs: 5_000, connectTimeoutMs: 5_000, maxRetriesPerRequest: 1 },
    );
    const store = new RedisStore(client, { ...options, timeoutMs: 5_000 });
    stores.push(store);
    await waitFor("the store to be ready", () => store.check().then(() => true));
    return store;
  };
  // Redis lists a command in commandstats once it has been called: no line means no WAIT yet.
  const waitCalls = async () => Number(/^cmdstat_wait:calls=(\d+)/m.exec(await primary.cli("info", "commandstats"))?.[1] ?? 0);
  const send = (store: MessageStore, chat: string, sender: string, text: string, clientMessageId = "") =>
    store.append(chat, { sender, text, clientMessageId });

  beforeAll(async () => {
    primary = await startRedis();
    replica = await startRedis();
    await replica.cli("replicaof", "127.0.0.1", String(primary.port));
    await waitFor("the replica to sync", async () => /master_link_status:up/.test(await replica.cli("info", "replication")));
  });
  afterAll(async () => {
    await Promise.all(stores.map((store) => store.close()));
    await replica?.stop();
    await primary?.stop();
  });

  it("confirms the sends of one turn with one WAIT, and every acknowledged send is on the replica", async () => {
    const store = await open({ waitReplicas: 1, waitTimeoutMs: 2_000 });
    const chats = Array.from({ length: 4 }, () => uniqueChat());
    const before = await waitCalls();
    const stored = await Promise.all(
      Array.from({ length: 100 }, (_, i) => send(store, chats[i % 4]!.chat, chats[i % 4]!.a, `m${i}`)),
    );
    expect(stored.every(({ replayed }) => !replayed)).toBe(true);
    const waits = (await waitCalls()) - before;
    expect(waits).toBeGreaterThan(0);
    expect(waits).toBeLessThan(10);
    // WAIT confirmed them: the replica already has every one.
    const onReplica = new Redis(replica.url);
    try {
      const lengths = await Promise.all(chats.map(({ chat }) => onReplica.xlen(chatKeys(chat).messages)));
      expect(lengths).toEqual([25, 25, 25, 25]);
    } finally {
      onReplica.disconnect();
    }
  });

  it("fails each send of a group as Unavailable when too few replicas confirm; a retry with its key answers the stored message", async () => {
    const { chat, a } = uniqueChat();
    const demanding = await open({ waitReplicas: 2, waitTimeoutMs: 100 });
    const failed = await Promise.allSettled(["k1", "k2"].map((key) => send(demanding, chat, a, key, key)));
    for (const result of failed) {
      expect(result.status).toBe("rejected");
      expect((result as PromiseRejectedResult).reason).toMatchObject({
        code: Code.Unavailable,
        rawMessage: expect.stringMatching(/not confirmed by 2 replica\(s\) within 100 ms; retry with the same client_message_id/),
      });
    }
    const store = await open({ waitReplicas: 1, waitTimeoutMs: 2_000 });
    const retried = await Promise.all(["k1", "k2"].map((key) => send(store, chat, a, key, key)));
    expect(retried.map(({ replayed, message }) => [replayed, message.text])).toEqual([
      [true, "k1"],
      [true, "k2"],
    ]);
    expect(await primary.cli("xlen", chatKeys(chat).messages)).toBe("2");
  });

  it("confirms members' list and log writes the same way", async () => {
    const { chat, a, b } = uniqueChat();
    const message = { sendTime: 1_700_000_000_000_001n, sender: b, text: "hi" };
    const store = await open({ waitReplicas: 1, waitTimeoutMs: 2_000 });
    expect(await store.members.record(a, chat, [message], 0n)).toEqual({ recorded: true });
    expect(await store.members.read(b, chat, a, message.sendTime)).toBe(message.sendTime);
    const onReplica = new Redis(replica.url);
    try {
      expect(await onReplica.zscore(memberKeys(a).chats, chat)).toBe(String(message.sendTime));
      expect(await onReplica.xlen(memberKeys(b).events)).toBe(1);
    } finally {
      onReplica.disconnect();
    }
    const demanding = await open({ waitReplicas: 2, waitTimeoutMs: 100 });
    const refused = await demanding.members.record(b, chat, [message], 0n).catch((error: unknown) => error);
    expect(refused).toMatchObject({ code: Code.Unavailable, rawMessage: expect.stringMatching(/not confirmed by 2 replica\(s\) within 100 ms/) });
  });
});
