import { chatMark, encodeResumeToken } from "@chat/proto/internal";

/** One message of a chat, as a stream delivers it (the chat is named beside it). */
export interface LiveMessage {
  /** Microseconds since the epoch; unique and strictly increasing within a chat: its position. */
  readonly sendTime: bigint;
  readonly sender: string;
  readonly text: string;
}

/**
 * Why a chat's continuity was lost, as a subscriber is told: retention removed messages it
 * had not received (trimmed), it fell too far behind (lagging), or the stored history no
 * longer holds its last message (lost).
 */
export type ResetReason = "trimmed" | "lagging" | "lost";

/** What a feed delivers: anything with a position (a message's send_time). */
export interface Positioned {
  readonly sendTime: bigint;
}

/** One event for a subscriber, in the order it must see them. */
export type LiveEvent<M extends Positioned = LiveMessage> =
  | { readonly kind: "message"; readonly chatId: string; readonly message: M }
  | { readonly kind: "reset"; readonly chatId: string; readonly reason: ResetReason; readonly position: bigint };

/** What a chat feed hands the readers it serves (see chat-feed.ts). */
export interface FeedReader<M extends Positioned = LiveMessage> {
  /** The chat's next message; readers drop what they have already had. */
  deliver(chatId: string, message: M): void;
  /** Continuity was lost; the reader goes on after `position`, the chat's current end. */
  reset(chatId: string, reason: ResetReason, position: bigint): void;
}

/**
 * One subscription's events, queued between the chat feeds that deliver them and the stream
 * that sends them. Each chat has two positions: the newest message queued (to drop what the
 * feed or a catch-up read hands over twice) and the newest taken (what the resume token
 * says, so a resume continues right after the last event the client got). The queue is
 * bounded: past `limit` queued events, the queued messages are dropped and each chat they
 * were for gets a reset (lagging) instead, so a slow subscriber costs bounded memory.
 */
export class Subscriber<M extends Positioned = LiveMessage> implements FeedReader<M> {
  readonly #limit: number;
  readonly #queued = new Map<string, bigint>();
  readonly #taken = new Map<string, bigint>();
  readonly #marks = new Map<string, bigint>();
  #events: LiveEvent<M>[] = [];
  #wake: (() => void) | undefined;
  #ended = false;

  constructor(limit: number) {
    this.#limit = limit;
  }

  /** Sets where a chat starts, before any event of it: messages after `position` follow. */
  begin(chatId: string, position: bigint): void {
    this.#queued.set(chatId, position);
    this.#taken.set(chatId, position);
    this.#marks.set(chatId, chatMark(chatId));
  }

  /** The newest position queued for a chat: everything up to it has been handed over. */
  position(chatId: string): bigint | undefined {
    return this.#queued.get(chatId);
  }

  /** Events queued and not yet taken. */
  get backlog(): number {
    return this.#events.length;
  }

  deliver(chatId: string, message: M): void {
    if (message.sendTime <= (this.#queued.get(chatId) ?? 0n)) return;
    this.#queued.set(chatId, message.sendTime);
    this.#push({ kind: "message", chatId, message });
  }

  reset(chatId: string, reason: ResetReason, position: bigint): void {
    this.#queued.set(chatId, position);
    this.#push({ kind: "reset", chatId, reason, position });
  }

  /**
   * The next event and the resume token after it; "quiet" when none came within `waitMs`
   * (without it, waits as long as it takes), "ended" once end() was called (queued events
   * are dropped: a resume brings them back).
   */
  async next(waitMs?: number): Promise<{ event: LiveEvent<M>; resumeToken: string } | "quiet" | "ended"> {
    if (this.#events.length === 0 && !this.#ended) await this.#arrival(waitMs);
    if (this.#ended) return "ended";
    const event = this.#events.shift();
    if (!event) return "quiet";
    this.#taken.set(event.chatId, event.kind === "message" ? event.message.sendTime : event.position);
    return { event, resumeToken: this.resumeToken() };
  }

  /** Ends the subscription (its caller left, or the server is shutting down). */
  end(): void {
    this.#ended = true;
    this.#wake?.();
  }

  /** Where the subscription stands: every chat's last taken position. */
  resumeToken(): string {
    if (this.#taken.size === 1) {
      const [chatId, position] = this.#taken.entries().next().value!;
      return singleChatToken(this.#marks.get(chatId)!, position);
    }
    const positions = new Map<bigint, bigint>();
    for (const [chatId, position] of this.#taken) positions.set(this.#marks.get(chatId)!, position);
    return encodeResumeToken(positions);
  }

  #push(event: LiveEvent<M>): void {
    this.#events.push(event);
    if (this.#events.length > this.#limit) this.#dropMessages();
    this.#wake?.();
  }

  /** Replaces every queued message by one reset per chat, at the newest position queued. */
  #dropMessages(): void {
    const kept = this.#events.filter((event) => event.kind === "reset");
    const lagging = new Set(this.#events.filter((event) => event.kind === "message").map((event) => event.chatId));
    this.#events = kept.filter((event) => !lagging.has(event.chatId));
    for (const chatId of lagging) {
      this.#events.push({ kind: "reset", chatId, reason: "lagging", position: this.#queued.get(chatId)! });
    }
  }

  #arrival(waitMs: number | undefined): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = waitMs === undefined ? undefined : setTimeout(() => done(), waitMs);
      const done = () => {
        clearTimeout(timer);
        this.#wake = undefined;
        resolve();
      };
      this.#wake = done;
    });
  }
}

/**
 * The token of a subscription of one chat, remembered for the last position asked: the
 * subscribers of one chat all take its message in turn, and encode the same token.
 */
let lastSingle: { mark: bigint; position: bigint; token: string } | undefined;
function singleChatToken(mark: bigint, position: bigint): string {
  if (lastSingle?.mark !== mark || lastSingle.position !== position) {
    lastSingle = { mark, position, token: encodeResumeToken(new Map([[mark, position]])) };
  }
  return lastSingle.token;
}
