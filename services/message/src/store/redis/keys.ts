/**
 * Redis key names of one chat. Every key of a chat carries the same hash tag, so Redis
 * Cluster keeps them in one slot and a Lua script may touch them together. The tag is the
 * base64url form of the canonical chat id: it cannot contain "{" or "}", so no member id can
 * end the tag early or make one chat's keys land on another chat's names.
 */
export interface ChatKeys {
  /** Stream of the chat's messages; entry id "<send_time>-0", fields s (sender) and t (text). */
  readonly messages: string;
  /** String holding the send_time stored for one idempotency key. */
  idempotency(clientMessageId: string): string;
}

export function chatKeys(chatId: string): ChatKeys {
  const prefix = `chat:{${Buffer.from(chatId, "utf8").toString("base64url")}}`;
  return {
    messages: `${prefix}:messages`,
    idempotency: (clientMessageId) => `${prefix}:idem:${clientMessageId}`,
  };
}
