import type { Redis } from "ioredis";
import { chatKeys } from "../../services/message/src/store/redis/keys.js";

/** A chat filled directly in Redis, with ids known so pulls can seek to any of them. */
export interface FilledChat {
  readonly chat: string;
  readonly count: number;
  /** send_time of the i-th message (0-based). */
  sendTime(index: number): number;
}

const batchSize = 10_000;
const stepUs = 1_000;

/** A 20-byte text, like a short chat line. */
export function benchText(index: number): string {
  return `msg ${String(index).padStart(16, "0")}`;
}

/**
 * Writes `count` messages into the chat "a:b" exactly as send.lua stores them:
 * entry id "<send_time>-0", fields s and t. Pipelined XADD in batches, one millisecond
 * apart, ending about now.
 */
export async function fillChat(redis: Redis, rawChat: string, count: number): Promise<FilledChat> {
  const members = rawChat.split(":").sort();
  const chat = members.join(":"); // canonical, as the service names it
  const key = chatKeys(chat).messages;
  const firstUs = Date.now() * 1_000 - count * stepUs - 60_000_000;
  await redis.del(key);
  for (let start = 0; start < count; start += batchSize) {
    const pipeline = redis.pipeline();
    for (let i = start; i < Math.min(count, start + batchSize); i++) {
      pipeline.xadd(key, `${firstUs + i * stepUs}-0`, "s", members[i % 2] ?? "", "t", benchText(i));
    }
    const replies = (await pipeline.exec()) ?? [];
    const failed = replies.find(([error]) => error !== null);
    if (failed) throw new Error(`filling ${chat} failed: ${String(failed[0])}`);
  }
  const length = await redis.xlen(key);
  if (length !== count) throw new Error(`filling ${chat}: expected ${count} entries, found ${length}`);
  return { chat, count, sendTime: (index) => firstUs + index * stepUs };
}
