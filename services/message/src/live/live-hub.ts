import type { Continuity, StoredMessage } from "../store/store.js";
import { ChatFeed, type FeedOptions, type FeedSource } from "./chat-feed.js";
import type { Positioned, Subscriber } from "@chat/streams";

export interface LiveHubOptions extends FeedOptions {
  /** How long a feed stays after its last reader left, so that readers reconnecting find it. */
  readonly lingerMs: number;
}

/** Where one chat of a subscription starts: after `position`, or (undefined) at the chat's end. */
export interface ChatStart {
  readonly chatId: string;
  readonly position: bigint | undefined;
  /** The position comes from a resume token: check that nothing was lost after it. */
  readonly resumed: boolean;
}

interface Entry<E extends Positioned> {
  readonly feed: ChatFeed<E>;
  /** Subscribers joined or joining. */
  users: number;
  linger: NodeJS.Timeout | undefined;
}

/**
 * The chat feeds of one message service replica: one per chat that anyone here watches,
 * shared by all its subscribers, kept a little while after the last one leaves. (A hub of
 * members' logs works the same, with a feed per member.)
 */
export class LiveHub<E extends Positioned = StoredMessage> {
  readonly #store: FeedSource<E>;
  readonly #options: LiveHubOptions;
  readonly #feeds = new Map<string, Entry<E>>();
  readonly #subscribers = new Set<Subscriber<E>>();
  readonly #checks = new Map<string, Promise<Continuity>>();
  readonly #stopMissedWakeUps: () => void;

  constructor(store: FeedSource<E>, options: LiveHubOptions) {
    this.#store = store;
    this.#options = options;
    this.#stopMissedWakeUps = store.notifier.onMissedWakeUps(() => {
      for (const { feed } of this.#feeds.values()) void feed.recover();
    });
  }

  /** Chats with a feed here. */
  get chats(): number {
    return this.#feeds.size;
  }

  /** Subscriptions open here. */
  get subscribers(): number {
    return this.#subscribers.size;
  }

  /**
   * Joins `subscriber` to every chat's feed at its start. A resumed position whose chat lost
   * messages after it gets a reset and starts at the chat's end. Leaves them all if any fails.
   */
  async join(subscriber: Subscriber<E>, starts: readonly ChatStart[]): Promise<void> {
    const joined: string[] = [];
    this.#subscribers.add(subscriber);
    try {
      await Promise.all(
        starts.map(async ({ chatId, position, resumed }) => {
          const feed = this.#use(chatId);
          joined.push(chatId);
          await feed.started;
          const continuity = position !== undefined && resumed ? await this.#continuity(feed, position) : "ok";
          if (continuity === "ok") {
            subscriber.begin(chatId, position ?? feed.tail);
            await feed.join(subscriber, position ?? feed.tail);
            return;
          }
          // Goes on from the chat's newest message. The subscriber keeps its old position until
          // it has taken the reset, so a token from before the reset still leads to it.
          const end = await this.#store.newest(chatId);
          subscriber.begin(chatId, position!);
          subscriber.reset(chatId, continuity, end);
          await feed.join(subscriber, end);
        }),
      );
    } catch (error) {
      this.leave(subscriber, joined);
      throw error;
    }
  }

  leave(subscriber: Subscriber<E>, chatIds: Iterable<string>): void {
    this.#subscribers.delete(subscriber);
    for (const chatId of chatIds) {
      const entry = this.#feeds.get(chatId);
      if (!entry) continue;
      entry.feed.leave(subscriber);
      if (--entry.users === 0) {
        entry.linger = setTimeout(() => this.#drop(chatId), this.#options.lingerMs).unref();
      }
    }
  }

  /** Ends every subscription and drops every feed. */
  close(): void {
    this.#stopMissedWakeUps();
    for (const subscriber of this.#subscribers) subscriber.end();
    for (const chatId of [...this.#feeds.keys()]) this.#drop(chatId);
  }

  /**
   * Whether a resumed position reads on without a gap. At the feed's tail it does (the feed
   * has read nothing after it), which spares the reads of a reconnect storm, where every
   * client resumes at the newest message; readers resuming at one older position share one
   * check.
   */
  #continuity(feed: ChatFeed<E>, position: bigint): Promise<Continuity> {
    if (position === feed.tail) return Promise.resolve("ok");
    const key = `${feed.chatId}\n${position}`;
    let check = this.#checks.get(key);
    if (!check) {
      check = this.#store.continuity(feed.chatId, position);
      this.#checks.set(key, check);
      void check.finally(() => this.#checks.delete(key)).catch(() => {});
    }
    return check;
  }

  #use(chatId: string): ChatFeed<E> {
    let entry = this.#feeds.get(chatId);
    if (!entry) {
      const feed = new ChatFeed<E>(chatId, this.#store, this.#options);
      entry = { feed, users: 0, linger: undefined };
      this.#feeds.set(chatId, entry);
      // A feed that could not start is forgotten, so the next subscriber tries again.
      feed.started.catch(() => {
        if (this.#feeds.get(chatId)?.feed === feed) this.#feeds.delete(chatId);
      });
    }
    clearTimeout(entry.linger);
    entry.users++;
    return entry.feed;
  }

  #drop(chatId: string): void {
    const entry = this.#feeds.get(chatId);
    if (!entry) return;
    clearTimeout(entry.linger);
    this.#feeds.delete(chatId);
    entry.feed.close();
  }
}
