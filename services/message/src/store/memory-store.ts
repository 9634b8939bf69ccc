import { systemClock, type MicrosecondClock } from "./clock.js";
import {
  toPage,
  type AppendInput,
  type AppendResult,
  type MessageStore,
  type Page,
  type PageQuery,
  type StoredMessage,
} from "./store.js";

interface IdempotencyRecord {
  readonly sendTime: bigint;
  readonly expiresAt: number;
}

interface ChatHistory {
  /** Sorted by sendTime, ascending; appends only ever go at the end. */
  readonly messages: StoredMessage[];
  readonly byClientId: Map<string, IdempotencyRecord>;
}

export interface MemoryStoreOptions {
  readonly clock?: MicrosecondClock;
}

/** Index of the first message with sendTime >= cursor (messages.length when none). */
function lowerBound(messages: readonly StoredMessage[], cursor: bigint): number {
  let low = 0;
  let high = messages.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (messages[middle]!.sendTime < cursor) low = middle + 1;
    else high = middle;
  }
  return low;
}

/**
 * Keeps every chat in process memory with the same semantics as the Redis engine.
 * For development and tests: nothing survives a restart and replicas do not share it.
 */
export class MemoryStore implements MessageStore {
  readonly #chats = new Map<string, ChatHistory>();
  readonly #clock: MicrosecondClock;
  readonly #sweeper: NodeJS.Timeout;

  constructor(options: MemoryStoreOptions = {}) {
    this.#clock = options.clock ?? systemClock;
    this.#sweeper = setInterval(() => this.#dropExpiredRecords(), 60_000).unref();
  }

  async append(chatId: string, input: AppendInput): Promise<AppendResult> {
    const history = this.#history(chatId);
    if (input.clientMessageId !== "") {
      const earlier = this.#replay(history, input.clientMessageId);
      if (earlier) return { message: earlier, replayed: true };
    }
    const last = history.messages.at(-1);
    const now = this.#clock();
    const sendTime = last && last.sendTime >= now ? last.sendTime + 1n : now;
    const message = { sendTime, sender: input.sender, text: input.text };
    history.messages.push(message);
    if (input.clientMessageId !== "") {
      history.byClientId.set(input.clientMessageId, {
        sendTime,
        expiresAt: Date.now() + input.idempotencyTtlSeconds * 1000,
      });
    }
    return { message, replayed: false };
  }

  async page(chatId: string, query: PageQuery): Promise<Page> {
    const messages = this.#chats.get(chatId)?.messages ?? [];
    if (!query.reverse) {
      const start = lowerBound(messages, query.cursor);
      return toPage(messages.slice(start, start + query.limit + 1), query.limit);
    }
    // Newest first: walk back from the last message at or before the cursor.
    const end = query.cursor === 0n ? messages.length : lowerBound(messages, query.cursor + 1n);
    const start = Math.max(0, end - query.limit - 1);
    return toPage(messages.slice(start, end).reverse(), query.limit);
  }

  async check(): Promise<void> {}

  async close(): Promise<void> {
    clearInterval(this.#sweeper);
  }

  #history(chatId: string): ChatHistory {
    let history = this.#chats.get(chatId);
    if (!history) {
      history = { messages: [], byClientId: new Map() };
      this.#chats.set(chatId, history);
    }
    return history;
  }

  #replay(history: ChatHistory, clientMessageId: string): StoredMessage | undefined {
    const record = history.byClientId.get(clientMessageId);
    if (!record || record.expiresAt <= Date.now()) return undefined;
    const index = lowerBound(history.messages, record.sendTime);
    return history.messages[index];
  }

  #dropExpiredRecords(): void {
    const now = Date.now();
    for (const history of this.#chats.values()) {
      for (const [id, record] of history.byClientId) {
        if (record.expiresAt <= now) history.byClientId.delete(id);
      }
    }
  }
}
