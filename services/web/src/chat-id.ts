// Chat ids as the server forms them (docs/api.md#chats-and-members).

const maxMemberIdLength = 64;

/**
 * Whether the server would take `id` as a member id: 1 to 64 characters, no whitespace,
 * control or format characters, no ":".
 */
export function isMemberId(id: string): boolean {
  const length = [...id].length;
  return length >= 1 && length <= maxMemberIdLength && !/[\s:\p{Cc}\p{Cf}]/u.test(id);
}

/** The canonical id of the chat of two members: sorted by UTF-16 code unit, as the server does. */
export function canonicalChatId(a: string, b: string): string {
  return a < b ? `${a}:${b}` : `${b}:${a}`;
}

/** The member of `chat` who is not `me` (`me` again in a chat with oneself). */
export function otherMember(chat: string, me: string): string {
  const [first = "", second = ""] = chat.split(":");
  return first === me ? second : first;
}
