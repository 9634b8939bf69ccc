import type { Context } from "koa";
import { parseEventsQuery, type EventsQuery } from "./events-query.js";
import { openEventStream, type EventStream, type EventStreamDeps } from "./event-stream.js";
import { toSse } from "./live-events.js";
import { openMemberStream, type MemberStreamDeps } from "./member-stream.js";
import type { OpenStreams } from "./open-streams.js";
import type { SseFeed } from "./sse-feed.js";
import { SseResponse, type SseOptions } from "./sse-response.js";

export interface EventsDeps extends EventStreamDeps, MemberStreamDeps {
  readonly streams: OpenStreams;
  readonly sse: SseOptions;
  /** Most chats one stream may watch. */
  readonly maxChats: number;
  /** Call headers naming the authenticated user, as for send and pull. */
  readonly userHeaders: (ctx: Context) => Record<string, string> | undefined;
}

/**
 * GET /api/events: Server-Sent Events of the messages stored in some chats, or of one
 * member's events (messages of all their chats, read receipts). Nothing is sent until the
 * message service has the subscription in place, so every error before it (bad chat, too
 * many chats, bad resume id, not a member) is the API's usual JSON error; afterwards the
 * stream ends when the client leaves, the edge shuts down, or the service cannot be reached
 * for a while (clients then reconnect with Last-Event-ID and miss nothing). Both kinds take
 * a slot of MAX_STREAMS. Its request's logs and metrics cover the opening of the stream.
 */
export function eventsRoute(deps: EventsDeps) {
  return async (ctx: Context): Promise<void> => {
    const query = parseEventsQuery(ctx, deps.maxChats);
    const gone = new AbortController();
    const release = deps.streams.acquire(() => gone.abort());
    ctx.req.once("close", () => gone.abort());
    let feed: SseFeed;
    try {
      feed = await openFeed(query, { signal: gone.signal, headers: deps.userHeaders(ctx) }, deps);
    } catch (error) {
      release();
      gone.abort();
      throw error;
    }
    const finish = () => {
      feed.close();
      release();
      gone.abort();
    };
    if (gone.signal.aborted) return finish();
    gone.signal.addEventListener("abort", () => feed.end(), { once: true });
    ctx.status = 200;
    ctx.respond = false;
    const sse = new SseResponse(ctx.res, deps.sse);
    sse.open();
    // The stream outlives its request: the middleware (logs, metrics, errors) is done once
    // its headers are out, and holds nothing for the hours a stream may last.
    void forward(feed, sse).finally(() => {
      sse.end();
      finish();
    });
  };
}

/** The client's side of a stream's calls: gone when it aborts, and who the user is. */
interface Call {
  readonly signal: AbortSignal;
  readonly headers: Record<string, string> | undefined;
}

/** Opens the stream a query asks for: chats through their relays, a member with a call of its own. */
async function openFeed(query: EventsQuery, call: Call, deps: EventsDeps): Promise<SseFeed> {
  if (query.kind === "member") return openMemberStream({ member: query.member, resumeToken: query.lastEventId }, call, deps);
  const request = { chats: query.chats.map((chat) => ({ chat, cursor: query.cursor })), resumeToken: query.lastEventId };
  return chatFeed(await openEventStream(request, call, deps));
}

/** A chat stream's subscriber as a feed: its events as SSE, quiet turns skipped. */
function chatFeed(stream: EventStream): SseFeed {
  return {
    async next() {
      for (let next = await stream.subscriber.next(); next !== "ended"; next = await stream.subscriber.next()) {
        if (next !== "quiet") return toSse(next.event, next.resumeToken);
      }
      return undefined;
    },
    end: () => stream.subscriber.end(),
    close: () => stream.close(),
  };
}

/** Sends the stream's events until the client leaves, the edge ends the stream, or its source ends. */
async function forward(feed: SseFeed, sse: SseResponse): Promise<void> {
  for (let event = await feed.next(); event !== undefined; event = await feed.next()) await sse.send(event);
}
