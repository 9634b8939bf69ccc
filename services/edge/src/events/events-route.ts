import type { Context } from "koa";
import { parseEventsQuery } from "./events-query.js";
import { openEventStream, type EventStream, type EventStreamDeps } from "./event-stream.js";
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
 * nothing). Its request's logs and metrics cover the opening of the stream.
 */
export function eventsRoute(deps: EventsDeps) {
  return async (ctx: Context): Promise<void> => {
    const query = parseEventsQuery(ctx, deps.maxChats);
    const gone = new AbortController();
    const release = deps.streams.acquire(() => gone.abort());
    ctx.req.once("close", () => gone.abort());
    const request = { chats: query.chats.map((chat) => ({ chat, cursor: query.cursor })), resumeToken: query.lastEventId };
    let stream: EventStream;
    try {
      stream = await openEventStream(request, { signal: gone.signal, headers: deps.userHeaders(ctx) }, deps);
    } catch (error) {
      release();
      gone.abort();
      throw error;
    }
    const finish = () => {
      stream.close();
      release();
      gone.abort();
    };
    if (gone.signal.aborted) return finish();
    gone.signal.addEventListener("abort", () => stream.subscriber.end(), { once: true });
    ctx.status = 200;
    ctx.respond = false;
    const sse = new SseResponse(ctx.res, deps.sse);
    sse.open();
    // The stream outlives its request: the middleware (logs, metrics, errors) is done once
    // its headers are out, and holds nothing for the hours a stream may last.
    void forward(stream, sse).finally(() => {
      sse.end();
      finish();
    });
  };
}

/** Sends the stream's events until the client leaves, the edge ends the stream, or its relays end. */
async function forward(stream: EventStream, sse: SseResponse): Promise<void> {
  for (let next = await stream.subscriber.next(); next !== "ended"; next = await stream.subscriber.next()) {
    if (next !== "quiet") await sse.send(toSse(next.event, next.resumeToken));
  }
}
