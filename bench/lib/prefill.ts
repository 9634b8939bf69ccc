import type { Redis } from "ioredis";
import { chatKeys, memberKeys } from "../../services/message/src/store/redis/keys.js";
import { memberScript } from "../../services/message/src/store/redis/redis-members.js";

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

const memberRecordScript = memberScript("member-record");

/**
 * Gives `member` `chats` chats of one message each, written as a send through the service
 * writes them: the message (XADD, as fillChat) and the member's list and log entry by the
 * service's own member-record.lua. Answers the chat ids.
 */
export async function fillMemberChats(redis: Redis, member: string, chats: number): Promise<string[]> {
  const sha = (await redis.script("LOAD", memberRecordScript)) as string;
  const keys = memberKeys(member);
  const ids: string[] = [];
  const firstUs = Date.now() * 1_000 - chats * stepUs - 60_000_000;
  for (let start = 0; start < chats; start += 1_000) {
    const pipeline = redis.pipeline();
    for (let k = start; k < Math.min(chats, start + 1_000); k++) {
      const peer = `peer${k}`;
      const chat = [member, peer].sort().join(":");
      const sendTime = String(firstUs + k * stepUs);
      ids.push(chat);
      pipeline.xadd(chatKeys(chat).messages, `${sendTime}-0`, "s", peer, "t", benchText(k), "k", "");
      pipeline.evalsha(sha, 4, keys.chats, keys.read, keys.events, keys.wake, member, chat, "0", 1_000, 0, 0, sendTime, peer, benchText(k));
    }
    const replies = (await pipeline.exec()) ?? [];
    const failed = replies.find(([error]) => error !== null);
    if (failed) throw new Error(`filling the chats of ${member} failed: ${String(failed[0])}`);
  }
  const listed = await redis.zcard(keys.chats);
  if (listed !== chats) throw new Error(`filling the chats of ${member}: expected ${chats} in the list, found ${listed}`);
  return ids;
}
