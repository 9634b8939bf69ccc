import { randomBytes } from "node:crypto";

/** A member id no other test uses, so tests sharing one Redis never see each other's chats. */
export function uniqueMember(prefix = "u"): string {
  return `${prefix}${randomBytes(6).toString("hex")}`;
}

/** A fresh chat between two unique members: `{ a, b, chat: "a:b" }`, with a < b. */
export function uniqueChat() {
  const [a, b] = [uniqueMember("a"), uniqueMember("b")].sort() as [string, string];
  return { a, b, chat: `${a}:${b}` };
}
