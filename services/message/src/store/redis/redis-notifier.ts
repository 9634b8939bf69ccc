import type { RedisClient } from "@chat/runtime";
import type { ChatNotifier } from "../store.js";
import { chatKeys } from "./keys.js";

/**
 * Wake-ups from Redis sharded pub/sub: send.lua publishes on each chat's shard channel
 * (SPUBLISH), which lives in the chat's slot, so a subscription costs one channel on the
 * node that holds the chat. One SSUBSCRIBE per chat however many readers watch it.
 * `subscriber` is a connection of its own (a Cluster with shardedSubscribers on a cluster):
 * a connection in subscriber mode runs no other commands.
 *
 * Pub/sub is fire-and-forget: a wake-up published while a connection is down, or across a
 * failover or slot migration, is lost. Readers therefore read the stream itself, re-read it
 * whenever the subscriber (re)connects (onMissedWakeUps), and check their position on a
 * timer of their own.
 */
export class RedisNotifier implements ChatNotifier {
  readonly #subscriber: RedisClient;
  readonly #wakers = new Map<string, Set<() => void>>();
  readonly #missed = new Set<() => void>();
  readonly #channelOf: (id: string) => string;

  /** `channelOf` names the channel of what is watched: a chat's by default. */
  constructor(subscriber: RedisClient, channelOf: (id: string) => string = (chatId) => chatKeys(chatId).wake) {
    this.#subscriber = subscriber;
    this.#channelOf = channelOf;
    subscriber.on("smessage", (channel: string) => {
      for (const wake of this.#wakers.get(channel) ?? []) wake();
    });
    // A standalone connection is "ready" again after a reconnect; a cluster's shard
    // subscribers come back one by one ("+subscriber").
    for (const event of ["ready", "+subscriber"]) {
      subscriber.on(event, () => {
        for (const listener of this.#missed) listener();
      });
    }
  }

  async watch(id: string, wake: () => void): Promise<() => void> {
    const channel = this.#channelOf(id);
    let wakers = this.#wakers.get(channel);
    if (!wakers) {
      wakers = new Set();
      this.#wakers.set(channel, wakers);
    }
    wakers.add(wake);
    if (wakers.size === 1) {
      try {
        await this.#subscriber.ssubscribe(channel);
      } catch (error) {
        this.#forget(channel, wake);
        throw error;
      }
    }
    return () => this.#forget(channel, wake);
  }

  onMissedWakeUps(listener: () => void): () => void {
    this.#missed.add(listener);
    return () => void this.#missed.delete(listener);
  }

  async close(): Promise<void> {
    this.#subscriber.disconnect();
  }

  #forget(channel: string, wake: () => void): void {
    const wakers = this.#wakers.get(channel);
    if (!wakers?.delete(wake) || wakers.size > 0) return;
    this.#wakers.delete(channel);
    // Unsubscribing from a lost connection fails; it is not subscribed there any more either.
    this.#subscriber.sunsubscribe(channel).catch(() => {});
  }
}
