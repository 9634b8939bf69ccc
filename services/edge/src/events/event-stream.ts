import { setTimeout as sleep } from "node:timers/promises";
import type { MessageInitShape } from "@bufbuild/protobuf";
import type { SubscribeRequestSchema, SubscribeResponse } from "@chat/proto";
import { chatMark, decodeResumeToken, encodeResumeToken } from "@chat/proto/internal";
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
 * Opens one event stream's subscription. A catch-up call of its own (end_when_caught_up)
 * checks the request (chats, membership, resume token) and fixes where every chat starts,
 * so errors come before any byte of the stream, and replays what the stream is behind (a
 * cursor, a resume). Each chat then joins its relay (chat-relays.ts) once the stream has
 * reached the relay's position; chats still behind when the call ends are caught up by
 * another from where they are. The service ends these calls itself, so streams coming and
 * going cost it no stream resets, and an idle stream costs the edge a subscriber, not a call.
 */
export async function openEventStream(
  request: MessageInitShape<typeof SubscribeRequestSchema>,
  call: { readonly signal: AbortSignal; readonly headers: Record<string, string> | undefined },
  deps: EventStreamDeps,
): Promise<EventStream> {
  const own = new AbortController();
  const stop = () => own.abort();
  call.signal.addEventListener("abort", stop, { once: true });
  const subscribe = (shape: MessageInitShape<typeof SubscribeRequestSchema>) =>
    deps.live.subscribe({ ...shape, endWhenCaughtUp: true }, { signal: own.signal, headers: call.headers })[Symbol.asyncIterator]();
  const events = subscribe(request);
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
  const behind = new Set(relays.keys());
  for (const [chatId, relay] of relays) relay.add(subscriber, () => behind.delete(chatId));
  void (async () => {
    await catchUp(events, subscriber, relays, own.signal);
    // Chats the relays moved past meanwhile: another catch-up from where each stands.
    for (let attempt = 1; !own.signal.aborted; attempt++) {
      await Promise.all([...behind].map((chatId) => relays.get(chatId)!.ready));
      if (behind.size === 0 || own.signal.aborted) return;
      if (attempt > 2) await sleep(Math.min(1_000, 10 * 2 ** attempt), undefined, { signal: own.signal });
      const positions = new Map([...behind].map((chatId) => [chatMark(chatId), subscriber.position(chatId)!]));
      const again = subscribe({ chats: [...behind].map((chat) => ({ chat })), resumeToken: encodeResumeToken(positions) });
      await again.next(); // ready
      await catchUp(again, subscriber, relays, own.signal);
    }
  })().catch(() => {
    // The service stayed out of reach: the stream ends and its client resumes where it was.
    if (!own.signal.aborted) subscriber.end();
  });
  return { subscriber, close };
}

/** Hands a catch-up call's events to the stream's subscriber, moving it towards its relays. */
async function catchUp(
  events: AsyncIterator<SubscribeResponse>,
  subscriber: Subscriber,
  relays: ReadonlyMap<string, ChatRelay>,
  signal: AbortSignal,
): Promise<void> {
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
}
