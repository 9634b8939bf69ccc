import type { Context } from "koa";
import { invalidArgument } from "../http/api-error.js";

/** What GET /api/events asks for: the messages of some chats, or every event of one member's. */
export type EventsQuery = ChatsQuery | MemberQuery;

/** A stream of some chats' messages. */
export interface ChatsQuery {
  readonly kind: "chats";
  /** Chat ids as given (the message service canonicalizes and checks them). */
  readonly chats: readonly string[];
  /** send_time to replay from, inclusive; 0n for none. */
  readonly cursor: bigint;
  /** The id of the last event received: the Last-Event-ID header, else the last_event_id parameter. */
  readonly lastEventId: string;
}

/** A stream of one member's events: messages of all their chats, and read receipts. */
export interface MemberQuery {
  readonly kind: "member";
  /** The member named, else the bearer token's user (the message service checks it). */
  readonly member: string;
  /** As in ChatsQuery. */
  readonly lastEventId: string;
}

const int64Max = 9_223_372_036_854_775_807n;
const known = new Set(["chat", "cursor", "member", "last_event_id", "access_token"]);

function single(params: URLSearchParams, name: string): string | undefined {
  const values = params.getAll(name);
  if (values.length > 1) throw invalidArgument(`${name} is given ${values.length} times; send it once`);
  return values[0];
}

/**
 * Reads the query of GET /api/events: `chat` (repeated, at most `maxChats`) and `cursor`, or
 * `member` (by default the bearer token's user), and `last_event_id`. A browser's
 * EventSource cannot set headers on its first connect, so the resume point may come in the
 * query; on its reconnects it sends Last-Event-ID, which wins.
 */
export function parseEventsQuery(ctx: Context, maxChats: number): EventsQuery {
  const params = new URLSearchParams(ctx.querystring);
  for (const name of params.keys()) {
    if (!known.has(name)) throw invalidArgument(`unknown query parameter "${name}"; use chat, cursor, member and last_event_id`);
  }
  const chats = params.getAll("chat");
  const member = single(params, "member");
  const rawCursor = single(params, "cursor");
  const lastEventId = ctx.get("last-event-id") || (single(params, "last_event_id") ?? "");
  if (chats.length === 0) {
    const whose = member ?? (ctx.state.user as string | undefined);
    if (whose === undefined) {
      throw invalidArgument("name the chats to watch: /api/events?chat=alice:bob (chat may repeat), or a member: /api/events?member=alice");
    }
    if (rawCursor !== undefined) {
      throw invalidArgument("cursor is for chat streams; a member stream starts with its next event and resumes with last_event_id");
    }
    return { kind: "member", member: whose, lastEventId };
  }
  if (member !== undefined) {
    throw invalidArgument("chat and member cannot be combined: watch some chats (chat=...) or all of a member's (member=...)");
  }
  if (chats.length > maxChats) throw invalidArgument(`at most ${maxChats} chats per stream; this one names ${chats.length}`);
  const cursor = rawCursor ?? "0";
  if (!/^\d{1,19}$/.test(cursor) || BigInt(cursor) > int64Max) {
    throw invalidArgument("cursor must be a whole number >= 0 (a send_time in microseconds, or 0)");
  }
  return { kind: "chats", chats, cursor: BigInt(cursor), lastEventId };
}
