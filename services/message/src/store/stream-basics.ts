/**
 * What the message store and the members' logs share: a stored message, whether a reader
 * can read on from a position, and wake-ups for live readers.
 */

/** One stored message; the chat it belongs to is implied by where it was read from. */
export interface StoredMessage {
  /** Microseconds since the epoch; unique and strictly increasing within a chat. */
  readonly sendTime: bigint;
  readonly sender: string;
  readonly text: string;
}

/**
 * Whether a subscriber positioned at a send_time (the last it received, or its starting
 * point) can read on without a gap: "trimmed" when retention removed messages after it,
 * "lost" when the history no longer holds it (a failover or a restart lost writes).
 */
export type Continuity = "ok" | "trimmed" | "lost";

/** Wake-ups for readers of a chat: a message may have been stored. Never the data itself. */
export interface ChatNotifier {
  /**
   * Calls `wake` whenever a message may have been stored in the chat, from the moment the
   * returned promise resolves until the function it resolves to is called.
   */
  watch(chatId: string, wake: () => void): Promise<() => void>;
  /** Calls `listener` whenever wake-ups may have been missed (the notifier reconnected). */
  onMissedWakeUps(listener: () => void): () => void;
}
