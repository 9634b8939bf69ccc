import { randomBytes, randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import type { ChainableCommander, Redis } from "ioredis";
import { chatKeys, memberKeys } from "../../services/message/src/store/redis/keys.js";
import { memberScript } from "../../services/message/src/store/redis/redis-members.js";
import { sendScriptArgs, sendScriptKeyCount, type SendSettings } from "../../services/message/src/store/redis/send-command.js";
import type { AppendInput } from "../../services/message/src/store/store.js";
import { keepEverything } from "../../services/message/src/store/retention.js";
import { waitFor } from "../../test/harness/wait.js";
import { benchText } from "./prefill.js";

const sendScript = readFileSync(
  new URL("../../services/message/src/store/redis/commands/send.lua", import.meta.url),
  "utf8",
);

const memberRecordScript = memberScript("member-record");
const memberReadScript = memberScript("member-read");

/** SHA1 of send.lua once loaded into the bench Redis. */
let sendSha = "";
/** The same, of the members' scripts. */
let memberRecordSha = "";
let memberReadSha = "";

const settings: SendSettings = { retention: keepEverything, idempotencyWindowSeconds: 86_400 };

/** One way of storing a chat's messages in Redis. */
interface Layout {
  readonly name: string;
  readonly description: string;
  /** Redis settings (CONFIG SET) in force while this layout is written; restored after. */
  readonly config?: Readonly<Record<string, string>>;
  /** Queues the write of one message; returns the keys of the chat it touched. */
  write(pipeline: ChainableCommander, chat: string, sendTimeUs: number, sender: string, text: string): readonly string[];
}

/** A write through the service's own send.lua, with the arguments the service passes. */
function sendLua(key: (index: number) => Pick<AppendInput, "clientMessageId" | "retryKey">) {
  let index = 0;
  return (pipeline: ChainableCommander, chat: string, _sendTimeUs: number, sender: string, text: string): readonly string[] => {
    const input = { sender, text, ...key(index++) };
    const args = sendScriptArgs(chat, input, settings);
    pipeline.evalsha(sendSha, sendScriptKeyCount, ...args);
    return input.clientMessageId === "" ? [args[0]] : [args[0], args[2]];
  };
}

const retryKeyed = () => sendLua(() => ({ clientMessageId: "", retryKey: { key: randomBytes(12).toString("base64url"), sinceFirstAttemptMs: 0 } }));

/** Name of the layout every other is compared with: the stream entry and nothing else. */
export const entryAloneLayout = "stream entry alone (XADD s, t)";
/** Name of the layout of what the REST edge sends without a client key. */
export const edgeSendLayout = "send.lua, edge retry key";

/** The send_time the owner's list holds for each chat, as member-record.lua expects it. */
const previousSendTime = new Map<string, number>();

/** The member who has every chat of a case in the conversation layouts. */
const owner = "owner";

/** A case's chat "mK:nK" as the owner's chat with nK; mK's messages are the owner's. */
function asOwned(chat: string, sender: string): { owned: string; from: string } {
  const peer = chat.split(":")[1]!;
  return { owned: [owner, peer].sort().join(":"), from: sender === peer ? peer : owner };
}

function layouts(): Layout[] {
  previousSendTime.clear();
  return [
    {
      name: entryAloneLayout,
      description: "XADD <send_time>-0 s <sender> t <text>: the message itself, no idempotency of any kind",
      write(pipeline, chat, sendTimeUs, sender, text) {
        const key = chatKeys(chat).messages;
        pipeline.xadd(key, `${sendTimeUs}-0`, "s", sender, "t", text);
        return [key];
      },
    },
    {
      name: edgeSendLayout,
      description: "production: a send through the REST edge without a client key (a 16-character retry key inside the entry)",
      write: retryKeyed(),
    },
    {
      name: "send.lua, client key",
      description: "production: a send with a client_message_id (a UUID), recorded in the chat's hash of the day",
      write: sendLua(() => ({ clientMessageId: randomUUID() })),
    },
    {
      name: "send.lua, no key",
      description: "production: an RPC send with neither key (no retry protection)",
      write: sendLua(() => ({ clientMessageId: "" })),
    },
    {
      name: `${edgeSendLayout}, node 1 KiB`,
      description: "edge sends with stream-node-max-bytes 1024, as the chart's Redis Cluster runs",
      config: { "stream-node-max-bytes": "1024" },
      write: retryKeyed(),
    },
    {
      name: `${edgeSendLayout}, node 512 B`,
      description: "edge sends with stream-node-max-bytes 512",
      config: { "stream-node-max-bytes": "512" },
      write: retryKeyed(),
    },
    {
      name: "member records (list, log)",
      description:
        "conversations, on top of the messages, for one member who has every chat of the case (\"owner\"): each message recorded in the owner's list and event log by member-record.lua (a list entry per chat, a log event per message, the owner's read cursor when the owner sent it); the log capped at 1,000 events",
      write(pipeline, chat, sendTimeUs, sender, text) {
        const { owned, from } = asOwned(chat, sender);
        const keys = memberKeys(owner);
        const after = previousSendTime.get(owned) ?? 0;
        pipeline.evalsha(memberRecordSha, 4, keys.chats, keys.read, keys.events, keys.wake, owner, owned, String(after), 1_000, 0, 0, String(sendTimeUs), from, text);
        previousSendTime.set(owned, sendTimeUs);
        return [keys.chats, keys.read, keys.events];
      },
    },
    {
      name: "read cursors",
      description: "conversations: the owner marks each message read (member-read.lua: the owner's read cursor per chat and a read event in the owner's log, capped at 1,000)",
      write(pipeline, chat, sendTimeUs, sender) {
        const { owned } = asOwned(chat, sender);
        const keys = memberKeys(owner);
        pipeline.evalsha(memberReadSha, 3, keys.read, keys.events, keys.wake, owned, owned, owner, String(sendTimeUs), 1_000, 0);
        return [keys.read, keys.events];
      },
    },
    {
      name: "zset of JSON",
      description: "sorted set per chat: score send_time, member JSON {send_time,sender,text}",
      write(pipeline, chat, sendTimeUs, sender, text) {
        const key = chatKeys(chat).messages.replace(/:messages$/, ":zset");
        pipeline.zadd(key, sendTimeUs, JSON.stringify({ send_time: sendTimeUs, sender, text }));
        return [key];
      },
    },
    {
      name: "hash",
      description: "hash per chat: field send_time, value JSON {s,t} (no ordered seek)",
      write(pipeline, chat, sendTimeUs, sender, text) {
        const key = chatKeys(chat).messages.replace(/:messages$/, ":hash");
        pipeline.hset(key, String(sendTimeUs), JSON.stringify({ s: sender, t: text }));
        return [key];
      },
    },
    {
      name: "list of JSON",
      description: "list per chat: RPUSH JSON {send_time,sender,text} (seek by time is O(N))",
      write(pipeline, chat, sendTimeUs, sender, text) {
        const key = chatKeys(chat).messages.replace(/:messages$/, ":list");
        pipeline.rpush(key, JSON.stringify({ send_time: sendTimeUs, sender, text }));
        return [key];
      },
    },
  ];
}

export interface MemoryCase {
  readonly chats: number;
  readonly perChat: number;
}

export interface MemoryRow {
  readonly layout: string;
  readonly description: string;
  readonly chats: number;
  readonly perChat: number;
  /** INFO used_memory after minus before, per message: every key counted, with key and dict overhead. */
  readonly usedMemoryBytesPerMessage: number;
  /** The same, per chat. */
  readonly usedMemoryBytesPerChat: number;
  /** MEMORY USAGE of (a sample of) the chats' keys, per message. */
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
async function withConfig<T>(redis: Redis, changes: Readonly<Record<string, string>>, work: () => Promise<T>): Promise<T> {
  const previous: Record<string, string> = {};
  for (const [name, value] of Object.entries(changes)) {
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
  const chatKeysWritten: (readonly string[])[] = [];
  const batch = 1_000; // small pipelines keep the client query buffer out of the measurement
  let pipeline = redis.pipeline();
  let queued = 0;
  for (let chat = 0; chat < memoryCase.chats; chat++) {
    const id = `m${chat}:n${chat}`;
    let keys: readonly string[] = [];
    for (let i = 0; i < memoryCase.perChat; i++) {
      keys = layout.write(pipeline, id, firstUs + i * 1_000, i % 2 === 0 ? `m${chat}` : `n${chat}`, benchText(i));
      if (++queued === batch) {
        await execOrThrow(pipeline);
        pipeline = redis.pipeline();
        queued = 0;
      }
    }
    chatKeysWritten.push(keys);
  }
  if (queued > 0) await execOrThrow(pipeline);
  const after = await settledUsedMemory(redis);
  const messages = memoryCase.chats * memoryCase.perChat;
  // Keys shared by every chat (one member's) are counted once; per-chat keys are sampled.
  const distinct = new Set(chatKeysWritten.flat());
  const shared = distinct.size < chatKeysWritten.length;
  const sampleEvery = shared ? 1 : Math.max(1, Math.floor(chatKeysWritten.length / 200));
  let sampled = 0;
  let sampledBytes = 0;
  for (let index = 0; index < (shared ? 1 : chatKeysWritten.length); index += sampleEvery) {
    for (const key of shared ? distinct : chatKeysWritten[index]!) sampledBytes += Number(await redis.call("MEMORY", "USAGE", key, "SAMPLES", "0"));
    sampled++;
  }
  if (shared) sampled = chatKeysWritten.length;
  return {
    layout: layout.name,
    description: layout.description,
    chats: memoryCase.chats,
    perChat: memoryCase.perChat,
    usedMemoryBytesPerMessage: (after - before) / messages,
    usedMemoryBytesPerChat: (after - before) / memoryCase.chats,
    memoryUsageBytesPerMessage: ((sampledBytes / sampled) * chatKeysWritten.length) / messages,
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
  memberRecordSha = String(await redis.script("LOAD", memberRecordScript));
  memberReadSha = String(await redis.script("LOAD", memberReadScript));
  const rows: MemoryRow[] = [];
  for (const memoryCase of cases) {
    for (const layout of layouts()) rows.push(await measure(redis, layout, memoryCase));
  }
  await redis.flushall();
  return rows;
}
