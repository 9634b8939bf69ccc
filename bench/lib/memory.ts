import { readFileSync } from "node:fs";
import type { ChainableCommander, Redis } from "ioredis";
import { chatKeys } from "../../services/message/src/store/redis/keys.js";
import { waitFor } from "../../test/harness/wait.js";
import { benchText } from "./prefill.js";

const sendScript = readFileSync(
  new URL("../../services/message/src/store/redis/commands/send.lua", import.meta.url),
  "utf8",
);

/** SHA1 of send.lua once loaded into the bench Redis. */
let sendSha = "";

/** One way of storing a chat's messages in Redis. */
interface Layout {
  readonly name: string;
  readonly description: string;
  /** Redis settings (CONFIG SET) in force while this layout is written; restored after. */
  readonly config?: Readonly<Record<string, string>>;
  /** Queues the write of one message; returns the key it lands in. */
  write(pipeline: ChainableCommander, chat: string, sendTimeUs: number, sender: string, text: string): string;
}

function streamWrite(pipeline: ChainableCommander, chat: string, _sendTimeUs: number, sender: string, text: string): string {
  const keys = chatKeys(chat);
  pipeline.evalsha(sendSha, 2, keys.messages, keys.idempotency(""), sender, text, "", 86_400);
  return keys.messages;
}

const layouts: readonly Layout[] = [
  {
    name: "stream (send.lua)",
    description: "production: one stream per chat, written by the service's own send.lua; Redis's default stream-node-max-bytes (4096)",
    write: streamWrite,
  },
  {
    name: "stream (send.lua), node 1 KiB",
    description: "production layout with stream-node-max-bytes 1024, as the chart's Redis Cluster runs",
    config: { "stream-node-max-bytes": "1024" },
    write: streamWrite,
  },
  {
    name: "stream (send.lua), node 512 B",
    description: "production layout with stream-node-max-bytes 512",
    config: { "stream-node-max-bytes": "512" },
    write: streamWrite,
  },
  {
    name: "zset of JSON",
    description: "sorted set per chat: score send_time, member JSON {send_time,sender,text}",
    write(pipeline, chat, sendTimeUs, sender, text) {
      const key = chatKeys(chat).messages.replace(/:messages$/, ":zset");
      pipeline.zadd(key, sendTimeUs, JSON.stringify({ send_time: sendTimeUs, sender, text }));
      return key;
    },
  },
  {
    name: "hash",
    description: "hash per chat: field send_time, value JSON {s,t} (no ordered seek)",
    write(pipeline, chat, sendTimeUs, sender, text) {
      const key = chatKeys(chat).messages.replace(/:messages$/, ":hash");
      pipeline.hset(key, String(sendTimeUs), JSON.stringify({ s: sender, t: text }));
      return key;
    },
  },
  {
    name: "list of JSON",
    description: "list per chat: RPUSH JSON {send_time,sender,text} (seek by time is O(N))",
    write(pipeline, chat, sendTimeUs, sender, text) {
      const key = chatKeys(chat).messages.replace(/:messages$/, ":list");
      pipeline.rpush(key, JSON.stringify({ send_time: sendTimeUs, sender, text }));
      return key;
    },
  },
];

export interface MemoryCase {
  readonly chats: number;
  readonly perChat: number;
}

export interface MemoryRow {
  readonly layout: string;
  readonly description: string;
  readonly chats: number;
  readonly perChat: number;
  /** INFO used_memory after minus before, per message (includes key and dict overhead). */
  readonly usedMemoryBytesPerMessage: number;
  /** MEMORY USAGE of (a sample of) the chat keys, per message. */
  readonly memoryUsageBytesPerMessage: number;
}

async function usedMemory(redis: Redis): Promise<number> {
  const info = await redis.info("memory");
  const match = /^used_memory:(\d+)/m.exec(info);
  if (!match) throw new Error("INFO memory has no used_memory");
  return Number(match[1]);
}

/** used_memory once client buffers have been trimmed (it stops moving). */
async function settledUsedMemory(redis: Redis): Promise<number> {
  let last = await usedMemory(redis);
  return waitFor(
    "used_memory to settle",
    async () => {
      await new Promise((resolve) => setTimeout(resolve, 200));
      const now = await usedMemory(redis);
      const settled = Math.abs(now - last) < 4_096;
      last = now;
      return settled ? now : undefined;
    },
    { timeoutMs: 5_000, intervalMs: 0 },
  ).catch(() => last);
}

/** Runs `work` with `settings` set by CONFIG SET, and puts the previous values back after. */
async function withConfig<T>(redis: Redis, settings: Readonly<Record<string, string>>, work: () => Promise<T>): Promise<T> {
  const previous: Record<string, string> = {};
  for (const [name, value] of Object.entries(settings)) {
    const [, current] = (await redis.config("GET", name)) as [string, string];
    previous[name] = current;
    await redis.config("SET", name, value);
  }
  try {
    return await work();
  } finally {
    for (const [name, value] of Object.entries(previous)) await redis.config("SET", name, value);
  }
}

async function measure(redis: Redis, layout: Layout, memoryCase: MemoryCase): Promise<MemoryRow> {
  return withConfig(redis, layout.config ?? {}, () => measureWith(redis, layout, memoryCase));
}

async function measureWith(redis: Redis, layout: Layout, memoryCase: MemoryCase): Promise<MemoryRow> {
  await redis.flushall();
  const before = await settledUsedMemory(redis);
  const firstUs = Date.now() * 1_000;
  const keys: string[] = [];
  const batch = 1_000; // small pipelines keep the client query buffer out of the measurement
  let pipeline = redis.pipeline();
  let queued = 0;
  for (let chat = 0; chat < memoryCase.chats; chat++) {
    const id = `m${chat}:n${chat}`;
    let key = "";
    for (let i = 0; i < memoryCase.perChat; i++) {
      key = layout.write(pipeline, id, firstUs + i * 1_000, i % 2 === 0 ? `m${chat}` : `n${chat}`, benchText(i));
      if (++queued === batch) {
        await execOrThrow(pipeline);
        pipeline = redis.pipeline();
        queued = 0;
      }
    }
    keys.push(key);
  }
  if (queued > 0) await execOrThrow(pipeline);
  const after = await settledUsedMemory(redis);
  const messages = memoryCase.chats * memoryCase.perChat;
  const sampleEvery = Math.max(1, Math.floor(keys.length / 200));
  let sampled = 0;
  let sampledBytes = 0;
  for (let index = 0; index < keys.length; index += sampleEvery) {
    sampledBytes += Number(await redis.call("MEMORY", "USAGE", keys[index] as string, "SAMPLES", "0"));
    sampled++;
  }
  return {
    layout: layout.name,
    description: layout.description,
    chats: memoryCase.chats,
    perChat: memoryCase.perChat,
    usedMemoryBytesPerMessage: (after - before) / messages,
    memoryUsageBytesPerMessage: ((sampledBytes / sampled) * keys.length) / messages,
  };
}

async function execOrThrow(pipeline: ChainableCommander): Promise<void> {
  const replies = (await pipeline.exec()) ?? [];
  const failed = replies.find(([error]) => error !== null);
  if (failed) throw new Error(`memory fill failed: ${String(failed[0])}`);
}

/**
 * Bytes per message of each layout in each case, each measured alone after FLUSHALL on the
 * bench Redis (which this wipes: run it last).
 */
export async function measureMemory(redis: Redis, cases: readonly MemoryCase[]): Promise<MemoryRow[]> {
  sendSha = String(await redis.script("LOAD", sendScript));
  const rows: MemoryRow[] = [];
  for (const memoryCase of cases) {
    for (const layout of layouts) rows.push(await measure(redis, layout, memoryCase));
  }
  await redis.flushall();
  return rows;
}
