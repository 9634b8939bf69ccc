import type { MemberStore } from "./members.js";
import type { ChatNotifier, Continuity, StoredMessage } from "./stream-basics.js";

export type { ChatNotifier, Continuity, StoredMessage } from "./stream-basics.js";

/**
 * How long after its first attempt a send may be retried with its retry key. A retry looks
 * for the first attempt's message among those stored since then, so the window bounds the
 * search; a retry record lives a little longer (see the engines).
 */
export const maxRetryWindowMs = 300_000;

/** A caller's own retry protection for one send (see RetryKey in the contract). */
export interface RetryKey {
  readonly key: string;
  /** 0 on the first attempt; on a retry, milliseconds since the first attempt was sent. */
  readonly sinceFirstAttemptMs: number;
}

export interface AppendInput {
  readonly sender: string;
  readonly text: string;
  /** Idempotency key, or "" for none. */
  readonly clientMessageId: string;
  /** Retry protection without an idempotency record; never set together with clientMessageId. */
  readonly retryKey?: RetryKey | undefined;
}

export type AppendResult =
  /** The idempotency key was seen before and nothing new was stored. */
  | { readonly message: StoredMessage; readonly replayed: true }
  /** Stored; `previous` is the send_time of the chat's newest message before it, 0n for none. */
  | { readonly message: StoredMessage; readonly replayed: false; readonly previous: bigint };

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
  /** send_time of the oldest message the chat still holds, 0n when it holds none. */
  readonly historyStart: bigint;
}

/** What a member's chat list shows of one chat (see MessageStore.summary). */
export interface ChatSummary {
  /** The chat's newest retained message, undefined when it holds none. */
  readonly last: StoredMessage | undefined;
  /** Messages after the read cursor that the member did not send, up to the cap. */
  readonly unread: number;
  /** Whether more than `unread` are unread (it is at the cap). */
  readonly capped: boolean;
}

/**
 * Storage engine for chat histories. Chats are named by their canonical id.
 * Implementations must give every appended message a send_time greater than any before it
 * in the same chat, must make append atomic with its idempotency record, and must apply
 * the same retention (retention.ts) and retry-key rules (retry-keys.ts).
 */
export interface MessageStore {
  append(chatId: string, input: AppendInput): Promise<AppendResult>;
  page(chatId: string, query: PageQuery): Promise<Page>;
  /** Up to `limit` messages stored after `sendTime` (exclusive), oldest first, within retention. */
  after(chatId: string, sendTime: bigint, limit: number): Promise<StoredMessage[]>;
  /** send_time of the chat's newest message, 0n when it holds none. */
  newest(chatId: string): Promise<bigint>;
  /**
   * The chat's newest message, and its messages after `readCursor` not sent by `member`,
   * counted up to `cap`: a read of at most a few times `cap` entries, not of the history.
   */
  summary(chatId: string, member: string, readCursor: bigint, cap: number): Promise<ChatSummary>;
  /** Whether reading on after `position` leaves no gap (see Continuity). */
  continuity(chatId: string, position: bigint): Promise<Continuity>;
  /** Wake-ups for the chats' readers. */
  readonly notifier: ChatNotifier;
  /** The members' chat lists, read cursors and event logs. */
  readonly members: MemberStore;
  /** Resolves when the engine can serve requests; rejects with the reason otherwise. */
  check(): Promise<void>;
  close(): Promise<void>;
}

/** Turns up to limit + 1 messages read in page order into a page and its continuation. */
export function toPage(messagesInOrder: readonly StoredMessage[], limit: number, historyStart: bigint): Page {
  const next = messagesInOrder[limit];
  return {
    messages: messagesInOrder.slice(0, limit),
    hasMore: next !== undefined,
    nextCursor: next?.sendTime ?? 0n,
    historyStart,
  };
}
