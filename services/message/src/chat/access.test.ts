import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { encodeChatUser } from "@chat/proto";
import { authorizePull, authorizeSend, callingUser } from "./access.js";
import { canonicalChat, defaultChatLimits } from "./rules.js";

function codeOf(run: () => unknown): Code | undefined {
  try {
    run();
    return undefined;
  } catch (error) {
    return ConnectError.from(error).code;
  }
}

const chat = canonicalChat("bob:alice", defaultChatLimits);

describe("callingUser", () => {
  it("reads the user the edge sends, Unicode included", () => {
    const headers = new Headers({ "chat-user": encodeChatUser("ünï😀") });
    expect(callingUser(headers, true)).toBe("ünï😀");
  });

  it("is nobody without the header, unless a user is required", () => {
    expect(callingUser(new Headers(), false)).toBeUndefined();
    expect(codeOf(() => callingUser(new Headers(), true))).toBe(Code.Unauthenticated);
  });

  it("refuses a header that is not a percent-encoded user id", () => {
    expect(codeOf(() => callingUser(new Headers({ "chat-user": "%E0%A4%A" }), false))).toBe(Code.Unauthenticated);
    expect(codeOf(() => callingUser(new Headers({ "chat-user": "" }), false))).toBe(Code.Unauthenticated);
  });
});

describe("authorizeSend", () => {
  it("lets users send as themselves, and anyone when nobody is authenticated", () => {
    expect(codeOf(() => authorizeSend("alice", "alice"))).toBeUndefined();
    expect(codeOf(() => authorizeSend("alice", undefined))).toBeUndefined();
  });

  it("refuses sending as someone else, case included", () => {
    expect(codeOf(() => authorizeSend("bob", "alice"))).toBe(Code.PermissionDenied);
    expect(codeOf(() => authorizeSend("Alice", "alice"))).toBe(Code.PermissionDenied);
  });
});

describe("authorizePull", () => {
  it("lets either member read the chat", () => {
    expect(codeOf(() => authorizePull(chat, "alice"))).toBeUndefined();
    expect(codeOf(() => authorizePull(chat, "bob"))).toBeUndefined();
    expect(codeOf(() => authorizePull(chat, undefined))).toBeUndefined();
  });

  it("refuses anyone else, including the chat id itself as a user", () => {
    for (const user of ["mallory", "alice:bob", "Alice", ""]) {
      expect(codeOf(() => authorizePull(chat, user))).toBe(Code.PermissionDenied);
    }
  });
});
