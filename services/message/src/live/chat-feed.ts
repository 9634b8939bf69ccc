import type { ChatNotifier, Continuity, StoredMessage } from "../store/store.js";
import type { FeedReader, Positioned } from "@chat/streams";

/**
 * What a feed reads: entries with increasing positions (send_time) per named feed. The
 * message store is one (its chats); the members' logs are another.
 */
export interface FeedSource<E extends Positioned> {
  after(id: string, position: bigint, limit: number): Promise<E[]>;
  newest(id: string): Promise<bigint>;
  continuity(id: string, position: bigint): Promise<Continuity>;
  readonly notifier: ChatNotifier;
}

export interface FeedOptions {
  /** Messages per read. */
  readonly readBatch: number;
  /** How often the feed compares its position with the chat's newest message (lost wake-ups). */
  readonly checkIntervalMs: number;
  /** Told about reads that failed (the next wake-up or check tries again). */
  readonly onError: (error: unknown) => void;
}

/** How soon a feed whose read failed checks again. */
const retryAfterFailureMs = 250;

/**
 * The live end of one chat in one replica, shared by every subscriber of the chat: one
 * wake-up subscription and one read per new message however many readers watch it.
 *
 * The stream is the source of truth; a wake-up only makes the feed read the messages after
 * its tail (the newest it has read). The feed watches before it reads the chat's newest
 * message, so nothing stored between the two is missed; a reader joins by reading from its
 * own position up to the tail, then joining the live set in the same turn of the event loop,
 * so nothing falls between its catch-up and the live messages either. Readers drop what
 * they already had, which closes every seam. A timer compares the tail with the chat's
 * newest message, which bounds how long a lost wake-up can delay delivery.
 */
export class ChatFeed<E extends Positioned = StoredMessage> {
  readonly chatId: string;
  readonly #store: FeedSource<E>;
  readonly #options: FeedOptions;
  readonly #live = new Set<FeedReader<E>>();
  /** Catch-up reads in flight, by position: readers resuming at one position share one. */
  readonly #catchUps = new Map<bigint, Promise<E[]>>();
  readonly started: Promise<void>;
  #tail = 0n;
  #reading = false;
  #readAgain = false;
  #unwatch: () => void = () => {};
  #timer: NodeJS.Timeout | undefined;
  #retry: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(chatId: string, store: FeedSource<E>, options: FeedOptions) {
    this.chatId = chatId;
    this.#store = store;
    this.#options = options;
    this.started = this.#start();
  }

  /** Readers served live, and readers catching up. */
  get readers(): number {
    return this.#live.size;
  }

  /** The newest message read; a reader joining without a position starts here. */
  get tail(): bigint {
    return this.#tail;
  }

  /** Catches `reader` up from after `position` to the tail, then adds it to the live set. */
  async join(reader: FeedReader<E>, position: bigint): Promise<void> {
    await this.started;
    let at = position;
    while (at < this.#tail) {
      const messages = await this.#catchUp(at);
      if (messages.length === 0) break;
      for (const message of messages) reader.deliver(this.chatId, message);
      at = messages.at(-1)!.sendTime;
    }
    // In the same turn as the last check of the tail: nothing falls between.
    this.#live.add(reader);
  }

  leave(reader: FeedReader<E>): void {
    this.#live.delete(reader);
  }

  /** A message may have been stored: reads what follows the tail, once at a time. */
  wake(): void {
    if (this.#reading) {
      this.#readAgain = true;
      return;
    }
    this.#reading = true;
    void this.#readNew().finally(() => (this.#reading = false));
  }

  /**
   * Wake-ups may have been missed and the history changed under the feed (a reconnect after
   * a failover): when the tail's message is gone, every reader is reset to the chat's end.
   */
  async recover(): Promise<void> {
    try {
      const continuity = await this.#store.continuity(this.chatId, this.#tail);
      if (continuity !== "ok") {
        const newest = await this.#store.newest(this.chatId);
        this.#tail = newest;
        for (const reader of this.#live) reader.reset(this.chatId, continuity, newest);
      }
    } catch (error) {
      this.#failed(error);
    }
    this.wake();
  }

  close(): void {
    this.#closed = true;
    this.#unwatch();
    clearInterval(this.#timer);
    clearTimeout(this.#retry);
    this.#live.clear();
  }

  async #start(): Promise<void> {
    this.#unwatch = await this.#store.notifier.watch(this.chatId, () => this.wake());
    try {
      this.#tail = await this.#store.newest(this.chatId);
    } catch (error) {
      this.#unwatch();
      throw error;
    }
    this.#timer = setInterval(() => void this.#check(), this.#options.checkIntervalMs).unref();
  }

  async #readNew(): Promise<void> {
    try {
      do {
        this.#readAgain = false;
        const messages = await this.#store.after(this.chatId, this.#tail, this.#options.readBatch);
        for (const message of messages) {
          this.#tail = message.sendTime;
          for (const reader of this.#live) reader.deliver(this.chatId, message);
        }
        if (messages.length === this.#options.readBatch) this.#readAgain = true;
      } while (this.#readAgain);
    } catch (error) {
      this.#failed(error);
    }
  }

  #catchUp(position: bigint): Promise<E[]> {
    let read = this.#catchUps.get(position);
    if (!read) {
      read = this.#store.after(this.chatId, position, this.#options.readBatch);
      this.#catchUps.set(position, read);
      void read.finally(() => this.#catchUps.delete(position)).catch(() => {});
    }
    return read;
  }

  async #check(): Promise<void> {
    try {
      const newest = await this.#store.newest(this.chatId);
      if (newest > this.#tail) this.wake();
      else if (newest < this.#tail) await this.recover();
    } catch (error) {
      this.#failed(error);
    }
  }

  /**
   * A read failed (Redis unreachable, a failover under way): the feed checks again soon
   * rather than at the next interval, so delivery resumes shortly after Redis does.
   */
  #failed(error: unknown): void {
    this.#options.onError(error);
    if (this.#closed) return;
    this.#retry ??= setTimeout(() => {
      this.#retry = undefined;
      void this.#check();
    }, Math.min(retryAfterFailureMs, this.#options.checkIntervalMs)).unref();
  }
}
