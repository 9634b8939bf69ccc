/** One stored message; the chat it belongs to is implied by where it was read from. */
export interface StoredMessage {
  /** Microseconds since the epoch; unique and strictly increasing within a chat. */
  readonly sendTime: bigint;
  readonly sender: string;
  readonly text: string;
}

export interface AppendInput {
  readonly sender: string;
  readonly text: string;
  /** Idempotency key, or "" for none. */
  readonly clientMessageId: string;
  /** How long the idempotency key is remembered, in seconds. */
  readonly idempotencyTtlSeconds: number;
}

export interface AppendResult {
  readonly message: StoredMessage;
  /** True when the idempotency key was seen before and nothing new was stored. */
  readonly replayed: boolean;
}

export interface PageQuery {
  /** send_time to start from, inclusive; 0 means the oldest (or newest, when reverse) end. */
  readonly cursor: bigint;
  readonly limit: number;
  readonly reverse: boolean;
}

export interface Page {
  readonly messages: readonly StoredMessage[];
  readonly hasMore: boolean;
  /** send_time of the next page's first message, 0n when there is none. */
  readonly nextCursor: bigint;
}

/**
 * Storage engine for chat histories. Chats are named by their canonical id.
 * Implementations must give every appended message a send_time greater than any before it
 * in the same chat, and must make append atomic with its idempotency record.
 */
export interface MessageStore {
  append(chatId: string, input: AppendInput): Promise<AppendResult>;
  page(chatId: string, query: PageQuery): Promise<Page>;
  /** Resolves when the engine can serve requests; rejects with the reason otherwise. */
  check(): Promise<void>;
  close(): Promise<void>;
}

/** Turns up to limit + 1 messages read in page order into a page and its continuation. */
export function toPage(messagesInOrder: readonly StoredMessage[], limit: number): Page {
  const next = messagesInOrder[limit];
  return {
    messages: messagesInOrder.slice(0, limit),
    hasMore: next !== undefined,
    nextCursor: next?.sendTime ?? 0n,
  };
}
