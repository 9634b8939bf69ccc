import { setTimeout as sleep } from "node:timers/promises";
import type { MessageInitShape } from "@bufbuild/protobuf";
import type { SubscribeRequestSchema, SubscribeResponse } from "@chat/proto";
import { chatMark, decodeResumeToken, encodeResumeToken } from "@chat/proto/internal";
import { Subscriber } from "@chat/streams";
import type { LimitFunction } from "p-limit";
import type { ChatRelay, ChatRelays } from "./chat-relays.js";
import type { LiveClient } from "./live-client.js";
import { liveMessage, resetReason } from "./live-events.js";

export interface EventStreamDeps {
  readonly live: LiveClient;
  readonly relays: ChatRelays;
  /** Bounds the catch-up calls being opened at once, so a reconnect storm queues here. */
  readonly opening: LimitFunction;
  /** Events queued for one stream before its messages are dropped for resets (lagging). */
  readonly queueLimit: number;
  /** Told how each stream started: at its relays' positions, or with a catch-up call. */
  readonly started?: (how: "relay" | "catch_up") => void;
}

export interface EventStream {
  /** The stream's events, in the order to send them, each with the resume token after it. */
  readonly subscriber: Subscriber;
  /** Leaves the relays and ends the stream's catch-up call if one is still open. */
  close(): void;
}

type Request = MessageInitShape<typeof SubscribeRequestSchema>;
interface Call {
  readonly signal: AbortSignal;
  readonly headers: Record<string, string> | undefined;
}

/**
 * Opens one event stream's subscription. A stream that starts where its chats' relays
 * (chat-relays.ts) stand joins them at once: a relay exists only once the message service
 * has accepted the same user's subscription to its chat, so there is nothing left to check,
 * and a reconnect storm of streams resuming at the newest message costs the service
 * nothing. Any other stream catches up first (see catchUpAndJoin).
 */
export async function openEventStream(request: Request, call: Call, deps: EventStreamDeps): Promise<EventStream> {
  const joined = joinRelays(request, call, deps);
  deps.started?.(joined ? "relay" : "catch_up");
  return joined ?? (await catchUpAndJoin(request, call, deps));
}

/** The stream joined to its relays, when every chat starts at its relay's position. */
function joinRelays(request: Request, call: Call, deps: EventStreamDeps): EventStream | undefined {
  const chats = (request.chats ?? []).map(({ chat = "", cursor = 0n }) => ({ chat, cursor }));
  if (new Set(chats.map(({ chat }) => chat)).size !== chats.length) return undefined;
  let resumed: Map<bigint, bigint> | undefined;
  if (request.resumeToken) {
    try {
      resumed = decodeResumeToken(request.resumeToken);
    } catch {
      return undefined; // the service explains what is wrong with it
    }
  }
  const starts: { relay: ChatRelay; position: bigint }[] = [];
  for (const { chat, cursor } of chats) {
    // By the id as given: a relay is known by the canonical id, so other spellings call.
    const relay = deps.relays.existing(chat, call.headers);
    const position = relay?.position;
    if (relay === undefined || position === undefined) return undefined;
    const from = resumed?.get(chatMark(chat));
    if (from === undefined ? cursor !== 0n : from !== position) return undefined;
    starts.push({ relay, position });
  }
  const subscriber = new Subscriber(deps.queueLimit);
  for (const { relay, position } of starts) {
    subscriber.begin(relay.chatId, position);
    relay.add(subscriber, () => {});
  }
  return { subscriber, close: () => starts.forEach(({ relay }) => relay.remove(subscriber)) };
}

/**
 * A catch-up call of the stream's own (end_when_caught_up) checks the request (chats,
 * membership, resume token) and fixes where every chat starts, so errors come before any
 * byte of the stream, and replays what the stream is behind (a cursor, a resume). Each chat
 * joins its relay once the stream has reached the relay's position; chats still behind when
 * the call ends are caught up by another from where they are. The service ends these calls
 * itself, so streams coming and going cost it no stream resets.
 */
async function catchUpAndJoin(request: Request, call: Call, deps: EventStreamDeps): Promise<EventStream> {
  const own = new AbortController();
  const stop = () => own.abort();
  call.signal.addEventListener("abort", stop, { once: true });
  const subscribe = (shape: Request) =>
    deps.live.subscribe({ ...shape, endWhenCaughtUp: true }, { signal: own.signal, headers: call.headers })[Symbol.asyncIterator]();
  let relays = new Map<string, ChatRelay>();
  const subscriber = new Subscriber(deps.queueLimit);
  const close = () => {
    call.signal.removeEventListener("abort", stop);
    own.abort();
    for (const relay of relays.values()) relay.remove(subscriber);
  };
  const events = subscribe(request);
  try {
    // The call starts with the first next(): bounded, like every stream's first call.
    const first = await deps.opening(() => events.next());
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
