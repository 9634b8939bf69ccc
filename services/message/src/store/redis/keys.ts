/**
 * Redis key names of one chat. Every key of a chat carries the same hash tag, so Redis
 * Cluster keeps them in one slot and a Lua script may touch them together. The tag is the
 * base64url form of the canonical chat id: it cannot contain "{" or "}", so no member id can
 * end the tag early or make one chat's keys land on another chat's names.
 */
export interface ChatKeys {
  /** Stream of the chat's messages; entry id "<send_time>-0", fields s (sender), t (text), k (retry key). */
  readonly messages: string;
  /**
   * Hash of the client_message_ids first used in one generation (a fixed span of time), each
   * to the send_time of its message; it expires with the generation after it.
   */
  clientIds(generation: number): string;
  /** String holding the send_time a retry stored under one retry key (see send.lua). */
  retryRecord(retryKey: string): string;
  /** Shard channel on which send.lua publishes the send_time of each stored message. */
  readonly wake: string;
}

export function chatKeys(chatId: string): ChatKeys {
  const prefix = `chat:{${Buffer.from(chatId, "utf8").toString("base64url")}}`;
  return {
    messages: `${prefix}:messages`,
    clientIds: (generation) => `${prefix}:ids:${generation}`,
    retryRecord: (retryKey) => `${prefix}:retry:${retryKey}`,
    wake: `${prefix}:wake`,
  };
}

/**
 * Redis key names of one member's chat list, read cursors and event log. They carry the
 * member's hash tag (base64url of the member id, prefixed so that it differs from every
 * chat's tag), so all of a member's keys share a slot, usually not their chats'.
 */
export interface MemberKeys {
  /** Sorted set of the member's chat ids, scored by activity (send_time of the newest message recorded). */
  readonly chats: string;
  /** Hash of chat id to the member's read cursor. */
  readonly read: string;
  /** Hash of "<chat id>\n<member>" to the other member's read cursor, as last logged. */
  readonly receipts: string;
  /**
   * Stream of the member's events, entry id "<position>-0", fields e ("m" message, "r" read),
   * c (chat id), s (sender, or reader), t (text, "" for a read), p (send_time, or read cursor).
   */
  readonly events: string;
  /** Shard channel on which each appended event's position is published. */
  readonly wake: string;
}

export function memberKeys(member: string): MemberKeys {
  const prefix = `member:{m.${Buffer.from(member, "utf8").toString("base64url")}}`;
  return {
    chats: `${prefix}:chats`,
    read: `${prefix}:read`,
    receipts: `${prefix}:receipts`,
    events: `${prefix}:events`,
    wake: `${prefix}:wake`,
  };
}
