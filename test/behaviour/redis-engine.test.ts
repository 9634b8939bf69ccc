import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { chatKeys } from "../../services/message/src/store/redis/keys.js";
import { MemoryStore } from "../../services/message/src/store/memory-store.js";
import type { MessageStore } from "../../services/message/src/store/store.js";
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
    const { message } = await store.append(chat, { sender: a, text: "now", clientMessageId: "", idempotencyTtlSeconds: 86_400 });
    expect(message.sendTime).toBe(ahead + 1n);
  });

  it("reads a page with one bounded range command (O(log N + limit))", async () => {
    const { chat, a } = uniqueChat();
    for (let i = 0; i < 30; i++) await store.append(chat, { sender: a, text: `m${i}`, clientMessageId: "", idempotencyTtlSeconds: 86_400 });
    const monitor = await redis.monitor();
    const commands: string[][] = [];
    monitor.on("monitor", (_time: string, args: string[]) => commands.push(args));
    await store.page(chat, { cursor: 0n, limit: 5, reverse: false });
    await store.page(chat, { cursor: 0n, limit: 5, reverse: true });
    // MONITOR delivers asynchronously: wait for both commands to show up.
    const deadline = Date.now() + 5_000;
    while (commands.filter((c) => /^xr/.test(c[0] ?? "")).length < 2 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    monitor.disconnect();
    const key = chatKeys(chat).messages;
    expect(commands.filter((c) => c[1] === key)).toEqual([
      ["xrange", key, "-", "+", "COUNT", "6"],
      ["xrevrange", key, "+", "-", "COUNT", "6"],
    ]);
  });

  it("stores a message as one stream entry keyed by its send_time", async () => {
    const { chat, a } = uniqueChat();
    const { message } = await store.append(chat, { sender: a, text: "hi", clientMessageId: "", idempotencyTtlSeconds: 86_400 });
    expect(await redis.xrange(chatKeys(chat).messages, "-", "+")).toEqual([[`${message.sendTime}-0`, ["s", a, "t", "hi"]]]);
  });

  it("expires idempotency records after the configured lifetime (24 h by default)", async () => {
    const { chat, a } = uniqueChat();
    await store.append(chat, { sender: a, text: "hi", clientMessageId: "k", idempotencyTtlSeconds: 86_400 });
    const ttl = await redis.ttl(chatKeys(chat).idempotency("k"));
    expect(ttl).toBeGreaterThan(86_400 - 60);
    expect(ttl).toBeLessThanOrEqual(86_400);
  });
});

describe("memory engine clock", () => {
  it("keeps send_time unique and increasing when the clock stands still or goes back", async () => {
    let now = 1_000_000n;
    const store = new MemoryStore({ clock: () => now });
    const first = await store.append("a:b", { sender: "a", text: "1", clientMessageId: "", idempotencyTtlSeconds: 86_400 });
    const second = await store.append("a:b", { sender: "a", text: "2", clientMessageId: "", idempotencyTtlSeconds: 86_400 });
    now = 5n;
    const third = await store.append("a:b", { sender: "a", text: "3", clientMessageId: "", idempotencyTtlSeconds: 86_400 });
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
      [keys.messages, keys.idempotency("a"), keys.idempotency("{b}")].map((key) => node.cluster("KEYSLOT", key)),
    );
    node.disconnect();
    expect(new Set(slots).size).toBe(1);
  });
});
