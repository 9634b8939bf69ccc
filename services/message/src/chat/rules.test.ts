import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { canonicalChat, defaultChatLimits as limits, validatePull, validateSend } from "./rules.js";

function rejection(run: () => unknown): ConnectError {
  try {
    run();
  } catch (error) {
    if (error instanceof ConnectError) return error;
    throw error;
  }
  throw new Error("expected a ConnectError");
}

const send = (overrides: Partial<{ chat: string; text: string; sender: string; clientMessageId: string }>) => ({
  chat: "alice:bob",
  text: "hello",
  sender: "alice",
  clientMessageId: "",
  ...overrides,
});

describe("canonicalChat", () => {
  it("names a chat by its members sorted, whatever order they come in", () => {
    expect(canonicalChat("bob:alice", limits)).toEqual({ id: "alice:bob", members: ["alice", "bob"] });
    expect(canonicalChat("alice:bob", limits).id).toBe("alice:bob");
  });

  it("keeps member ids case-sensitive and exact", () => {
    expect(canonicalChat("Bob:alice", limits).id).toBe("Bob:alice");
    expect(canonicalChat("é:e", limits).id).toBe("e:é");
  });

  it("allows a member to chat with themselves", () => {
    expect(canonicalChat("alice:alice", limits).id).toBe("alice:alice");
  });

  it.each([
    ["", "chat is required"],
    ["alice", 'exactly two member ids joined by ":"'],
    ["a:b:c", 'exactly two member ids joined by ":"'],
    [":bob", "first member id is empty"],
    ["alice:", "second member id is empty"],
    ["al ice:bob", "must not contain spaces"],
    ["alice:b\u0000ob", "control characters"],
    ["alice:\u200bbob", "control characters"],
    [`alice:${"x".repeat(65)}`, "at most 64 characters"],
    ["alice:\ud800", "control characters"],
  ])("rejects %j as invalid: %s", (raw, message) => {
    const error = rejection(() => canonicalChat(raw, limits));
    expect(error.code).toBe(Code.InvalidArgument);
    expect(error.rawMessage).toContain(message);
  });

  it("counts member id length in characters, not UTF-16 units", () => {
    expect(canonicalChat(`alice:${"😀".repeat(64)}`, limits).members[1]).toHaveLength(128);
  });

  it("cannot be tricked into another chat with hash-tag braces", () => {
    expect(canonicalChat("{a}:b", limits).id).toBe("b:{a}");
  });
});

describe("validateSend", () => {
  it("accepts a member sending to their chat and canonicalizes the chat", () => {
    const command = validateSend(send({ chat: "bob:alice", sender: "bob" }), limits);
    expect(command.chat.id).toBe("alice:bob");
    expect(command.sender).toBe("bob");
  });

  it("keeps text byte-exact, including NUL, RTL marks and emoji", () => {
    const text = "a\u0000b \u202e שלום 😀";
    expect(validateSend(send({ text }), limits).text).toBe(text);
  });

  it.each([
    [{ sender: "carol" }, 'sender "carol" is not a member of chat "alice:bob"'],
    [{ sender: "" }, "sender is required"],
    [{ sender: "Alice" }, "is not a member"],
    [{ text: "" }, "text is required"],
    [{ text: "x".repeat(4097) }, "longer than 4096 characters"],
    [{ text: "broken \udc00 pair" }, "unpaired UTF-16 surrogate"],
    [{ clientMessageId: "k".repeat(129) }, "client_message_id is longer than 128"],
    [{ clientMessageId: "a\nb" }, "client_message_id may contain only visible ASCII characters"],
    [{ clientMessageId: "5f1cé" }, "client_message_id may contain only visible ASCII characters"],
  ])("rejects %j: %s", (overrides, message) => {
    const error = rejection(() => validateSend(send(overrides), limits));
    expect(error.code).toBe(Code.InvalidArgument);
    expect(error.rawMessage).toContain(message);
  });

  it("accepts text of exactly the maximum length, counted in characters", () => {
    expect(validateSend(send({ text: "😀".repeat(4096) }), limits).text).toHaveLength(8192);
  });
});

describe("validatePull", () => {
  const pull = (overrides: Partial<{ cursor: bigint; limit: number; reverse: boolean }>) =>
    validatePull({ chat: "bob:alice", cursor: 0n, limit: 0, reverse: false, ...overrides }, limits);

  it("uses the default page size for limit 0 and caps large limits", () => {
    expect(pull({ limit: 0 }).limit).toBe(10);
    expect(pull({ limit: 7 }).limit).toBe(7);
    expect(pull({ limit: 100 }).limit).toBe(100);
    expect(pull({ limit: 2_147_483_647 }).limit).toBe(100);
  });

  it("canonicalizes the chat and keeps cursor and direction", () => {
    expect(pull({ cursor: 42n, reverse: true })).toMatchObject({ chat: { id: "alice:bob" }, cursor: 42n, reverse: true });
  });

  it("rejects a negative limit or cursor", () => {
    expect(rejection(() => pull({ limit: -1 })).rawMessage).toContain("limit must be between 0 and 100");
    expect(rejection(() => pull({ cursor: -1n })).rawMessage).toContain("cursor must be 0 or a send_time");
  });
});
