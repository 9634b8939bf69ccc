import { describe, expect, it } from "vitest";
import { chatKeys } from "./keys.js";

/** The part of a key Redis Cluster hashes: the first "{...}" with something inside. */
function hashTag(key: string): string {
  const open = key.indexOf("{");
  const close = key.indexOf("}", open + 1);
  return open >= 0 && close > open + 1 ? key.slice(open + 1, close) : key;
}

describe("chatKeys", () => {
  const hostileIds = ["a:b", "{a}:b", "a}:{b", "{:}", "}{:{}", "x{y}z:w", "😀:é"];

  it.each(hostileIds)("gives every key of chat %j the same hash tag", (chat) => {
    const keys = chatKeys(chat);
    const tag = hashTag(keys.messages);
    expect(hashTag(keys.clientIds(20_000))).toBe(tag);
    expect(hashTag(keys.retryRecord("{evil}"))).toBe(tag);
    expect(hashTag(keys.retryRecord(""))).toBe(tag);
    expect(Buffer.from(tag, "base64url").toString("utf8")).toBe(chat);
  });

  it("gives different chats different keys, even when their ids differ only in braces", () => {
    const messageKeys = new Set(hostileIds.map((chat) => chatKeys(chat).messages));
    expect(messageKeys.size).toBe(hostileIds.length);
  });

  it("names each generation of client ids apart", () => {
    const keys = chatKeys("a:b");
    expect(new Set([keys.clientIds(1), keys.clientIds(2), keys.clientIds(3)]).size).toBe(3);
  });
});
