import { context, ROOT_CONTEXT } from "@opentelemetry/api";
import { chatMark, decodeResumeToken } from "@chat/proto/internal";
import type { Subscriber } from "@chat/streams";
import type { Logger } from "@chat/runtime";
import type { LiveClient } from "./live-client.js";
import { liveMessage, resetReason } from "./live-events.js";

export interface ChatRelaysOptions {
  readonly live: LiveClient;
  readonly logger: Logger;
  /** How long (at least; up to twice) a relay nobody watches keeps its call, for streams that come back. */
  readonly lingerMs: number;
}

/**
 * One relay: a Subscribe call for one chat, shared by every event stream of this edge
 * process that watches the chat (as the same user), handing each message to all of them.
 *
 * A stream joins a relay once it has had every message of the chat up to the relay's
 * position (its own subscription caught it up, see event-stream.ts); from then on the relay
 * is its only source for the chat, so joining earlier would skip messages and joining later
 * is harmless (a subscriber drops what it already has).
 */
class ChatRelay {
  readonly chatId: string;
  readonly #members = new Set<Subscriber>();
  /** Streams still behind the relay, with what to call when they join. */
  readonly #waiting = new Map<Subscriber, () => void>();
  readonly #stop = new AbortController();
  /** The position of the last event passed on; undefined until the subscription is ready. */
  #position: bigint | undefined;
  #idleTimer: NodeJS.Timeout | undefined;
  #closed = false;
  #settle: () => void = () => {};
  /** Settles once the relay's subscription is ready, or the relay has closed. */
  readonly ready = new Promise<void>((resolve) => (this.#settle = resolve));

  readonly #idle: () => void;
  readonly #lingerMs: number;

  /** `idle` is called once the relay has closed. */
  constructor(chatId: string, idle: () => void, lingerMs: number) {
    this.chatId = chatId;
    this.#idle = idle;
    this.#lingerMs = lingerMs;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** The position of the last event passed on; undefined until the subscription is ready. */
  get position(): bigint | undefined {
    return this.#closed ? undefined : this.#position;
  }

  /** Runs the relay's subscription until close(), or until the service stays out of reach. */
  async run(live: LiveClient, headers: Record<string, string> | undefined, logger: Logger): Promise<void> {
    const chatId = this.chatId;
    try {
      const events = live.subscribe({ chats: [{ chat: chatId }] }, { signal: this.#stop.signal, headers });
      for await (const { event, resumeToken } of events) {
        if (event.case === "ready") {
          this.#position = decodeResumeToken(resumeToken).get(chatMark(chatId));
          this.#settle();
        }
        else if (event.case === "message") {
          // One object for every member: what is built from it (JSON, frames) is built once.
          const message = liveMessage(event.value);
          this.#deliver(message.sendTime, (member) => member.deliver(chatId, message));
        }
        else if (event.case === "reset") {
          const position = decodeResumeToken(resumeToken).get(chatMark(chatId))!;
          this.#deliver(position, (member) => member.reset(chatId, resetReason(event.value.reason), position));
        }
        if (this.#position !== undefined) for (const subscriber of [...this.#waiting.keys()]) this.#tryJoin(subscriber);
      }
    } catch (error) {
      if (!this.#stop.signal.aborted) logger.warn({ err: error, chat: chatId }, "chat relay ended: the message service could not be reached");
    } finally {
      // Its streams end too; their clients resume with the id of the last event they got.
      this.close();
      for (const subscriber of [...this.#members, ...this.#waiting.keys()]) subscriber.end();
    }
  }

  /**
   * Adds a stream that has had every message of the chat up to its position; `joined` is
   * called when the relay takes over, at once if the stream is not behind it.
   */
  add(subscriber: Subscriber, joined: () => void): void {
    clearTimeout(this.#idleTimer);
    this.#waiting.set(subscriber, joined);
    this.#tryJoin(subscriber);
  }

  /** Called after the stream's own subscription moved it forward in this chat. */
  advanced(subscriber: Subscriber): void {
    if (this.#waiting.has(subscriber)) this.#tryJoin(subscriber);
  }

  remove(subscriber: Subscriber): void {
    this.#members.delete(subscriber);
    this.#waiting.delete(subscriber);
    if (this.#members.size === 0 && this.#waiting.size === 0 && !this.#closed) {
      // Jittered, so relays left at once (clients of a lost network) do not all reset their
      // calls at once: HTTP/2 servers limit how fast a peer may reset streams.
      this.#idleTimer = setTimeout(() => this.close(), this.#lingerMs * (1 + Math.random()));
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#settle();
    clearTimeout(this.#idleTimer);
    this.#stop.abort();
    this.#idle();
  }

  #deliver(position: bigint, pass: (member: Subscriber) => void): void {
    // Streams exactly at the relay's position join before it moves on.
    for (const subscriber of [...this.#waiting.keys()]) this.#tryJoin(subscriber);
    this.#position = position;
    for (const member of this.#members) pass(member);
  }

  #tryJoin(subscriber: Subscriber): void {
    const position = subscriber.position(this.chatId);
    if (this.#position === undefined || position === undefined || position < this.#position) return;
    const joined = this.#waiting.get(subscriber)!;
    this.#waiting.delete(subscriber);
    this.#members.add(subscriber);
    joined();
  }
}

const relayKey = (chatId: string, headers: Record<string, string> | undefined) => `${chatId}\n${headers ? JSON.stringify(headers) : ""}`;

/**
 * The relays of one edge process, one per chat and calling user: however many streams
 * watch a chat here, the message service serves it one subscription, and reads and
 * decodes each message once for all of them.
 */
export class ChatRelays {
  readonly #relays = new Map<string, ChatRelay>();
  readonly #options: ChatRelaysOptions;

  constructor(options: ChatRelaysOptions) {
    this.#options = options;
  }

  get size(): number {
    return this.#relays.size;
  }

  /** The relay of a chat (a canonical id) for calls made with `headers`, if one is open. */
  existing(chatId: string, headers: Record<string, string> | undefined): ChatRelay | undefined {
    const relay = this.#relays.get(relayKey(chatId, headers));
    return relay?.closed ? undefined : relay;
  }

  /** The relay of a chat (a canonical id) for calls made with `headers`, started if need be. */
  relay(chatId: string, headers: Record<string, string> | undefined): ChatRelay {
    const existing = this.existing(chatId, headers);
    if (existing) return existing;
    const key = relayKey(chatId, headers);
    const relay = new ChatRelay(chatId, () => this.#relays.get(key) === relay && this.#relays.delete(key), this.#options.lingerMs);
    this.#relays.set(key, relay);
    // The relay outlives the request that opened it: its calls belong to no request's trace.
    void context.with(ROOT_CONTEXT, () => relay.run(this.#options.live, headers, this.#options.logger));
    return relay;
  }

  close(): void {
    for (const relay of [...this.#relays.values()]) relay.close();
  }
}

export type { ChatRelay };
