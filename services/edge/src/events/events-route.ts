import type { Logger } from "@chat/runtime";
import { ResetReason, type Message, type SubscribeResponse } from "@chat/proto";
import type { Context } from "koa";
import { parseEventsQuery } from "./events-query.js";
import type { LiveClient } from "./live-client.js";
import type { OpenStreams } from "./open-streams.js";
import { SseResponse, type SseEvent, type SseOptions } from "./sse-response.js";

export interface EventsDeps {
  readonly live: LiveClient;
  readonly streams: OpenStreams;
  readonly sse: SseOptions;
  /** Most chats one stream may watch. */
  readonly maxChats: number;
  readonly logger: Logger;
  /** Call headers naming the authenticated user, as for send and pull. */
  readonly userHeaders: (ctx: Context) => Record<string, string> | undefined;
}

const reasons: Record<ResetReason, string> = {
  [ResetReason.UNSPECIFIED]: "unspecified",
  [ResetReason.TRIMMED]: "trimmed",
  [ResetReason.LAGGING]: "lagging",
  [ResetReason.HISTORY_LOST]: "history_lost",
};

/** A message as the REST API shows it, the same object as in /api/pull. */
export const messageJson = (message: Message) => ({
  chat: message.chat,
  text: message.text,
  sender: message.sender,
  send_time: Number(message.sendTime),
});

function toSse(response: SubscribeResponse): SseEvent | undefined {
  const { event, resumeToken } = response;
  if (event.case === "message") return { id: resumeToken, event: "message", data: messageJson(event.value) };
  if (event.case === "reset") {
    const { chat, reason, message } = event.value;
    return { id: resumeToken, event: "reset", data: { chat, reason: reasons[reason], message } };
  }
  return undefined;
}

/**
 * GET /api/events: Server-Sent Events of the messages stored in some chats, from a Subscribe
 * call to the message service. Nothing is sent until the service has the subscription in
 * place, so every error before it (bad chat, too many chats, bad resume id, not a member)
 * is the API's usual JSON error; afterwards the stream ends when the client leaves, the edge
 * shuts down, or the service cannot be reached for a while (clients then reconnect with
 * Last-Event-ID and miss nothing).
 */
export function eventsRoute(deps: EventsDeps) {
  return async (ctx: Context): Promise<void> => {
    const query = parseEventsQuery(ctx, deps.maxChats);
    const gone = new AbortController();
    const release = deps.streams.acquire(() => gone.abort());
    ctx.req.once("close", () => gone.abort());
    try {
      const request = { chats: query.chats.map((chat) => ({ chat, cursor: query.cursor })), resumeToken: query.lastEventId };
      const events = deps.live.subscribe(request, { signal: gone.signal, headers: deps.userHeaders(ctx) })[Symbol.asyncIterator]();
      await events.next(); // ready: every chat's start is fixed
      if (gone.signal.aborted) return;
      ctx.status = 200;
      ctx.respond = false;
      const sse = new SseResponse(ctx.res, deps.sse);
      sse.open();
      try {
        for (let next = await events.next(); !next.done && !gone.signal.aborted; next = await events.next()) {
          const event = toSse(next.value);
          if (event) await sse.send(event);
        }
      } catch (error) {
        if (!gone.signal.aborted) deps.logger.warn({ err: error }, "event stream ended: the message service could not be reached");
      } finally {
        sse.end();
      }
    } finally {
      release();
      gone.abort();
    }
  };
}
