import type { Context } from "koa";
import { parseEventsQuery } from "./events-query.js";
import { openEventStream, type EventStreamDeps } from "./event-stream.js";
import { toSse } from "./live-events.js";
import type { OpenStreams } from "./open-streams.js";
import { SseResponse, type SseOptions } from "./sse-response.js";

export interface EventsDeps extends EventStreamDeps {
  readonly streams: OpenStreams;
  readonly sse: SseOptions;
  /** Most chats one stream may watch. */
  readonly maxChats: number;
  /** Call headers naming the authenticated user, as for send and pull. */
  readonly userHeaders: (ctx: Context) => Record<string, string> | undefined;
}

/**
 * GET /api/events: Server-Sent Events of the messages stored in some chats. Nothing is sent
 * until the message service has the subscription in place, so every error before it (bad
 * chat, too many chats, bad resume id, not a member) is the API's usual JSON error;
 * afterwards the stream ends when the client leaves, the edge shuts down, or the service
 * cannot be reached for a while (clients then reconnect with Last-Event-ID and miss
 * nothing).
 */
export function eventsRoute(deps: EventsDeps) {
  return async (ctx: Context): Promise<void> => {
    const query = parseEventsQuery(ctx, deps.maxChats);
    const gone = new AbortController();
    const release = deps.streams.acquire(() => gone.abort());
    ctx.req.once("close", () => gone.abort());
    try {
      const request = { chats: query.chats.map((chat) => ({ chat, cursor: query.cursor })), resumeToken: query.lastEventId };
      const stream = await openEventStream(request, { signal: gone.signal, headers: deps.userHeaders(ctx) }, deps);
      gone.signal.addEventListener("abort", () => stream.subscriber.end(), { once: true });
      try {
        if (gone.signal.aborted) return;
        ctx.status = 200;
        ctx.respond = false;
        const sse = new SseResponse(ctx.res, deps.sse);
        sse.open();
        try {
          // Until the client leaves, the edge ends the stream, or its relays end.
          for (let next = await stream.subscriber.next(); next !== "ended"; next = await stream.subscriber.next()) {
            if (next !== "quiet") await sse.send(toSse(next.event, next.resumeToken));
          }
        } finally {
          sse.end();
        }
      } finally {
        stream.close();
      }
    } finally {
      release();
      gone.abort();
    }
  };
}
