import { EventEmitter } from "node:events";
import { systemClock, type MicrosecondClock } from "./clock.js";
import { continuityOf } from "./continuity.js";
import { lowerBound } from "./lower-bound.js";
import { MemoryMembers } from "./memory-members.js";
import type { MemberLogRetention, MemberStore } from "./members.js";
import { keepEverything, retainedSince, type Retention } from "./retention.js";
import { maxRetryScan, retryRecordMs, retryScanExhausted, retrySearchFrom } from "./retry-keys.js";
import {
  toPage,
  type AppendInput,
  type AppendResult,
  type ChatNotifier,
  type ChatSummary,
  type Continuity,
  type MessageStore,
  type Page,
  type PageQuery,
  type StoredMessage,
} from "./store.js";

interface Entry extends StoredMessage {
  /** The send's retry key, "" for none (as the Redis engine keeps it in the entry). */
  readonly retryKey: string;
}

interface IdempotencyRecord {
  readonly sendTime: bigint;
  readonly expiresAt: number;
}

interface ChatHistory {
  /** Sorted by sendTime, ascending; appends only ever go at the end. */
  readonly messages: Entry[];
  readonly byClientId: Map<string, IdempotencyRecord>;
  /** Left by retries that stored their message, by retry key. */
  readonly byRetryKey: Map<string, IdempotencyRecord>;
  /** send_time of the newest message retention removed, 0n when none was. */
  maxRemoved: bigint;
}

export interface MemoryStoreOptions {
  readonly clock?: MicrosecondClock;
  readonly retention?: Retention;
  /** How long a client_message_id is remembered, in seconds. */
  readonly idempotencyWindowSeconds?: number;
  /** What members' logs keep; everything by default. */
  readonly memberLog?: MemberLogRetention;
}

const plain = ({ sendTime, sender, text }: StoredMessage): StoredMessage => ({ sendTime, sender, text });

/**
 * Keeps every chat in process memory with the same semantics as the Redis engine.
 * For development and tests: nothing survives a restart and replicas do not share it.
 */
export class MemoryStore implements MessageStore {
  readonly #chats = new Map<string, ChatHistory>();
  readonly #clock: MicrosecondClock;
  readonly #retention: Retention;
  readonly #idempotencyWindowMs: number;
  readonly #sweeper: NodeJS.Timeout;
  readonly #wakeUps = new EventEmitter().setMaxListeners(0);
  /** In-process wake-ups: a reader is woken synchronously after each append. */
  readonly notifier: ChatNotifier = {
    watch: async (chatId, wake) => {
      this.#wakeUps.on(chatId, wake);
      return () => void this.#wakeUps.off(chatId, wake);
    },
    onMissedWakeUps: () => () => {},
  };
  readonly members: MemberStore;

  constructor(options: MemoryStoreOptions = {}) {
    this.#clock = options.clock ?? systemClock;
    this.#retention = options.retention ?? keepEverything;
    this.#idempotencyWindowMs = (options.idempotencyWindowSeconds ?? 86_400) * 1000;
    this.#sweeper = setInterval(() => this.#sweep(), 60_000).unref();
    this.members = new MemoryMembers({ clock: this.#clock, log: options.memberLog, chatMaxAgeSeconds: this.#retention.maxAgeSeconds });
  }

  async append(chatId: string, input: AppendInput): Promise<AppendResult> {
    const history = this.#history(chatId);
    const now = this.#clock();
    const earlier = this.#earlier(history, input, now);
    if (earlier) return { message: earlier, replayed: true };
    const last = history.messages.at(-1);
    const sendTime = last && last.sendTime >= now ? last.sendTime + 1n : now;
    const entry = { sendTime, sender: input.sender, text: input.text, retryKey: input.retryKey?.key ?? "" };
    history.messages.push(entry);
    if (input.clientMessageId !== "") {
      history.byClientId.set(input.clientMessageId, { sendTime, expiresAt: Date.now() + this.#idempotencyWindowMs });
    } else if (input.retryKey && input.retryKey.sinceFirstAttemptMs > 0) {
      history.byRetryKey.set(input.retryKey.key, { sendTime, expiresAt: Date.now() + retryRecordMs });
    }
    this.#trim(history, now);
    this.#wakeUps.emit(chatId);
    return { message: plain(entry), replayed: false, previous: last?.sendTime ?? 0n };
  }

  async after(chatId: string, sendTime: bigint, limit: number): Promise<StoredMessage[]> {
    const messages = this.#chats.get(chatId)?.messages ?? [];
    const since = retainedSince(this.#retention, this.#clock());
    const start = lowerBound(messages, sendTime + 1n > since ? sendTime + 1n : since);
    return messages.slice(start, start + limit).map(plain);
  }

  async newest(chatId: string): Promise<bigint> {
    return this.#chats.get(chatId)?.messages.at(-1)?.sendTime ?? 0n;
  }

  async summary(chatId: string, member: string, readCursor: bigint, cap: number): Promise<ChatSummary> {
    const messages = this.#chats.get(chatId)?.messages ?? [];
    const since = retainedSince(this.#retention, this.#clock());
    const retained = lowerBound(messages, since);
    let unread = 0;
    for (let index = Math.max(retained, lowerBound(messages, readCursor + 1n)); index < messages.length && unread <= cap; index++) {
      if (messages[index]!.sender !== member) unread++;
    }
    const last = messages.length > retained ? plain(messages.at(-1)!) : undefined;
    return { last, unread: Math.min(unread, cap), capped: unread > cap };
  }

  async continuity(chatId: string, position: bigint): Promise<Continuity> {
    const history = this.#chats.get(chatId);
    const messages = history?.messages ?? [];
    return continuityOf(position, {
      exists: messages[lowerBound(messages, position)]?.sendTime === position,
      oldest: messages[0]?.sendTime ?? 0n,
      removedAny: (history?.maxRemoved ?? 0n) > 0n,
      retainedSince: retainedSince(this.#retention, this.#clock()),
    });
  }

  async page(chatId: string, query: PageQuery): Promise<Page> {
    const messages = this.#chats.get(chatId)?.messages ?? [];
    const retained = lowerBound(messages, retainedSince(this.#retention, this.#clock()));
    const historyStart = messages[retained]?.sendTime ?? 0n;
    if (!query.reverse) {
      const start = Math.max(retained, lowerBound(messages, query.cursor));
      return toPage(messages.slice(start, start + query.limit + 1).map(plain), query.limit, historyStart);
    }
    // Newest first: walk back from the last message at or before the cursor.
    const end = query.cursor === 0n ? messages.length : lowerBound(messages, query.cursor + 1n);
    const start = Math.max(retained, end - query.limit - 1);
    return toPage(messages.slice(start, Math.max(start, end)).reverse().map(plain), query.limit, historyStart);
  }

  async check(): Promise<void> {}

  async close(): Promise<void> {
    clearInterval(this.#sweeper);
  }

  #history(chatId: string): ChatHistory {
    let history = this.#chats.get(chatId);
    if (!history) {
      history = { messages: [], byClientId: new Map(), byRetryKey: new Map(), maxRemoved: 0n };
      this.#chats.set(chatId, history);
    }
    return history;
  }

  /** The message an earlier attempt of this send stored, if any (see retry-keys.ts). */
  #earlier(history: ChatHistory, input: AppendInput, nowUs: bigint): StoredMessage | undefined {
    if (input.clientMessageId !== "") return this.#recorded(history, history.byClientId.get(input.clientMessageId), input);
    const retry = input.retryKey;
    if (!retry) return undefined;
    const recorded = this.#recorded(history, history.byRetryKey.get(retry.key), input);
    if (recorded || retry.sinceFirstAttemptMs === 0) return recorded;
    const from = lowerBound(history.messages, retrySearchFrom(nowUs, retry.sinceFirstAttemptMs));
    for (let index = from; index < history.messages.length; index++) {
      if (index - from >= maxRetryScan) throw retryScanExhausted();
      const entry = history.messages[index]!;
      if (entry.retryKey === retry.key) return plain(entry);
    }
    return undefined;
  }

  /** The message a live record points at; as sent when retention has removed it since. */
  #recorded(history: ChatHistory, record: IdempotencyRecord | undefined, input: AppendInput): StoredMessage | undefined {
    if (!record || record.expiresAt <= Date.now()) return undefined;
    const stored = history.messages[lowerBound(history.messages, record.sendTime)];
    if (stored?.sendTime === record.sendTime) return plain(stored);
    return { sendTime: record.sendTime, sender: input.sender, text: input.text };
  }

  #trim(history: ChatHistory, nowUs: bigint): void {
    const { maxMessages } = this.#retention;
    const tooOld = lowerBound(history.messages, retainedSince(this.#retention, nowUs));
    const overCount = maxMessages > 0 ? history.messages.length - maxMessages : 0;
    const removed = Math.max(tooOld, overCount);
    if (removed > 0) history.maxRemoved = history.messages.splice(0, removed).at(-1)!.sendTime;
  }

  #sweep(): void {
    const now = Date.now();
    for (const [chatId, history] of this.#chats) {
      for (const records of [history.byClientId, history.byRetryKey]) {
        for (const [id, record] of records) if (record.expiresAt <= now) records.delete(id);
      }
      this.#trim(history, this.#clock());
      // An emptied chat is kept while anything refers to it: what was removed stays known.
      if (history.messages.length === 0 && history.maxRemoved === 0n && history.byClientId.size === 0 && history.byRetryKey.size === 0) {
        this.#chats.delete(chatId);
      }
    }
  }
}
