import type { ChatNotifier, Continuity, StoredMessage } from "./stream-basics.js";

/**
 * One event in a member's log. `sendTime` is when the log took it, in microseconds from the
 * clock of the member's own storage (their Redis slot), unique and increasing within the log:
 * the event's position, whatever the clocks of the chats it comes from. (It shares a
 * message's name so that the same live feeds serve chats and members.)
 */
export type MemberEvent =
  | { readonly sendTime: bigint; readonly kind: "message"; readonly chatId: string; readonly message: StoredMessage }
  | { readonly sendTime: bigint; readonly kind: "read"; readonly chatId: string; readonly reader: string; readonly readCursor: bigint };

/** One row of a member's chat list. */
export interface ChatActivity {
  readonly chatId: string;
  /** send_time of the newest message recorded in the member's list. */
  readonly activity: bigint;
  /** send_time of the newest message the member has read, 0n when none. */
  readonly readCursor: bigint;
  /** The other member's read cursor, as their receipts told this member's record; 0n when none. */
  readonly otherReadCursor: bigint;
}

/** Where a page of a chat list starts: right below this row (activity, then chat id, descending). */
export interface ListPosition {
  readonly activity: bigint;
  readonly chatId: string;
}

export interface ChatListPage {
  readonly chats: readonly ChatActivity[];
  readonly hasMore: boolean;
}

/** What a member's log keeps. 0 turns a limit off. */
export interface MemberLogRetention {
  readonly maxEvents: number;
  readonly maxAgeSeconds: number;
}

/** The answer to record(): done, or the member's list stands elsewhere in the chat. */
export type RecordResult = { readonly recorded: true } | { readonly recorded: false; readonly at: bigint };

/**
 * Each member's chat list, read cursors and event log. On Redis all of a member's keys share
 * the member's hash tag, so they live in the member's slot, not in their chats': a send
 * writes its chat first (the source of truth), then each member's record, which repairs
 * itself on the next send or retry (see conversations/record-send.ts).
 */
export interface MemberStore {
  /**
   * Records messages of a chat (ascending, the newest last) in the member's list and log.
   * `messages` must be every message of the chat after `after` (0n: from the chat's start as
   * far as the caller read it) up to the newest given, so a list that holds the chat at
   * `after` or later (concurrent sends of the chat may have moved it on) takes those after
   * its position: they are logged, the chat's activity becomes the newest, and the member's
   * read cursor moves past their own messages. A list already at or past the newest message
   * changes nothing; a list before `after` (or any list, when `after` is negative: the
   * caller does not know what precedes) changes nothing and says where it is.
   */
  record(member: string, chatId: string, messages: readonly StoredMessage[], after: bigint): Promise<RecordResult>;
  /**
   * A read cursor moved: `reader`'s in chat `chatId`. When the reader is the member, their
   * cursor moves forward to `cursor` (never back); either way, a receipt is logged when the
   * member's record of the reader's cursor moved. Answers the reader's cursor as recorded.
   */
  read(member: string, chatId: string, reader: string, cursor: bigint): Promise<bigint>;
  /** A page of the member's chats, most recently active first, below `from` when given. */
  list(member: string, from: ListPosition | undefined, limit: number): Promise<ChatListPage>;
  /** The members' logs, as live feeds read them (named by member id). */
  readonly log: MemberLog;
}

export interface MemberLog {
  /** Up to `limit` events after `position` (exclusive), oldest first. */
  after(member: string, position: bigint, limit: number): Promise<MemberEvent[]>;
  /** Position of the member's newest event, 0n when the log holds none. */
  newest(member: string): Promise<bigint>;
  continuity(member: string, position: bigint): Promise<Continuity>;
  readonly notifier: ChatNotifier;
}

/** The other member of a canonical chat id "a:b" (the member again in "a:a"). */
export function otherMember(chatId: string, member: string): string {
  const [first = "", second = ""] = chatId.split(":");
  return first === member ? second : first;
}

/**
 * The order of chat ids among chats of one activity in a list: by their UTF-8 bytes, as
 * Redis orders the members of a sorted set.
 */
export function compareIds(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
}
