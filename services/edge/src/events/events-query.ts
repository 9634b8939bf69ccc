import type { Context } from "koa";
import { invalidArgument } from "../api/api-error.js";

/** What GET /api/events asks for. */
export interface EventsQuery {
  /** Chat ids as given (the message service canonicalizes and checks them). */
  readonly chats: readonly string[];
  /** send_time to replay from, inclusive; 0n for none. */
  readonly cursor: bigint;
  /** The id of the last event received: the Last-Event-ID header, else the last_event_id parameter. */
  readonly lastEventId: string;
}

const int64Max = 9_223_372_036_854_775_807n;
const known = new Set(["chat", "cursor", "last_event_id", "access_token"]);

function single(params: URLSearchParams, name: string): string | undefined {
  const values = params.getAll(name);
  if (values.length > 1) throw invalidArgument(`${name} is given ${values.length} times; send it once`);
  return values[0];
}

/**
 * Reads the query of GET /api/events: `chat` (repeated, at most `maxChats`), `cursor` and
 * `last_event_id`. A browser's EventSource cannot set headers on its first connect, so the
 * resume point may come in the query; on its reconnects it sends Last-Event-ID, which wins.
 */
export function parseEventsQuery(ctx: Context, maxChats: number): EventsQuery {
  const params = new URLSearchParams(ctx.querystring);
  for (const name of params.keys()) {
    if (!known.has(name)) throw invalidArgument(`unknown query parameter "${name}"; use chat, cursor and last_event_id`);
  }
  const chats = params.getAll("chat");
  if (chats.length === 0) throw invalidArgument(`name the chats to watch: /api/events?chat=alice:bob (chat may repeat)`);
  if (chats.length > maxChats) throw invalidArgument(`at most ${maxChats} chats per stream; this one names ${chats.length}`);
  const rawCursor = single(params, "cursor") ?? "0";
  if (!/^\d{1,19}$/.test(rawCursor) || BigInt(rawCursor) > int64Max) {
    throw invalidArgument("cursor must be a whole number >= 0 (a send_time in microseconds, or 0)");
  }
  const lastEventId = ctx.get("last-event-id") || (single(params, "last_event_id") ?? "");
  return { chats, cursor: BigInt(rawCursor), lastEventId };
}
