import type { MessageInitShape } from "@bufbuild/protobuf";
import type { SubscribeRequestSchema, SubscribeResponse } from "@chat/proto";
import { chatMark, decodeResumeToken } from "@chat/proto/internal";
import { Subscriber } from "@chat/streams";
import type { ChatRelay, ChatRelays } from "./chat-relays.js";
import type { LiveClient } from "./live-client.js";
import { liveMessage, resetReason } from "./live-events.js";

export interface EventStreamDeps {
  readonly live: LiveClient;
  readonly relays: ChatRelays;
  /** Events queued for one stream before its messages are dropped for resets (lagging). */
  readonly queueLimit: number;
}

export interface EventStream {
  /** The stream's events, in the order to send them, each with the resume token after it. */
  readonly subscriber: Subscriber;
  /** Leaves the relays and ends the stream's own subscription if it is still open. */
  close(): void;
}

/**
 * Opens one event stream's subscription. Its own Subscribe call checks the request (chats,
 * membership, resume token) and fixes where every chat starts, so errors come before any
 * byte of the stream; it then replays what the stream is behind (a cursor, a resume) until
 * each chat has caught up with that chat's relay (chat-relays.ts), which takes over. Once
 * every chat has, the call ends: an idle stream costs the edge a subscriber, not a call.
 */
export async function openEventStream(
  request: MessageInitShape<typeof SubscribeRequestSchema>,
  call: { readonly signal: AbortSignal; readonly headers: Record<string, string> | undefined },
  deps: EventStreamDeps,
): Promise<EventStream> {
  const own = new AbortController();
  const stop = () => own.abort();
  call.signal.addEventListener("abort", stop, { once: true });
  const events = deps.live.subscribe(request, { signal: own.signal, headers: call.headers })[Symbol.asyncIterator]();
  let relays = new Map<string, ChatRelay>();
  const subscriber = new Subscriber(deps.queueLimit);
  const close = () => {
    call.signal.removeEventListener("abort", stop);
    own.abort();
    for (const relay of relays.values()) relay.remove(subscriber);
  };
  try {
    const first = await events.next();
    if (first.done || first.value.event.case !== "ready") throw new Error("the subscription ended before it was ready");
    const chats = first.value.event.value.chats;
    const positions = decodeResumeToken(first.value.resumeToken);
    for (const chatId of chats) {
      const position = positions.get(chatMark(chatId));
      if (position === undefined) throw new Error(`the subscription's first resume token has no position for ${chatId}`);
      subscriber.begin(chatId, position);
    }
    relays = new Map(chats.map((chatId) => [chatId, deps.relays.relay(chatId, call.headers)]));
  } catch (error) {
    close();
    throw error;
  }
  let behind = relays.size;
  for (const relay of relays.values()) relay.add(subscriber, () => --behind === 0 && own.abort());
  if (behind > 0) void catchUp(events, subscriber, relays, own.signal);
  return { subscriber, close };
}

/** Hands the stream's own events to its subscriber until the relays have taken every chat over. */
async function catchUp(
  events: AsyncIterator<SubscribeResponse>,
  subscriber: Subscriber,
  relays: ReadonlyMap<string, ChatRelay>,
  signal: AbortSignal,
): Promise<void> {
  try {
    for (let next = await events.next(); !next.done && !signal.aborted; next = await events.next()) {
      const { event, resumeToken } = next.value;
      if (event.case === "message") {
        subscriber.deliver(event.value.chat, liveMessage(event.value));
        relays.get(event.value.chat)?.advanced(subscriber);
      } else if (event.case === "reset") {
        const chatId = event.value.chat;
        subscriber.reset(chatId, resetReason(event.value.reason), decodeResumeToken(resumeToken).get(chatMark(chatId))!);
        relays.get(chatId)?.advanced(subscriber);
      }
    }
  } catch {
    // The service stayed out of reach: the stream ends and its client resumes where it was.
    if (!signal.aborted) subscriber.end();
  }
}
