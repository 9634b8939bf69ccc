import { readFileSync } from "node:fs";
import { Code, ConnectError } from "@connectrpc/connect";
import type { Result } from "ioredis";
import {
  toPage,
  type AppendInput,
  type AppendResult,
  type MessageStore,
  type Page,
  type PageQuery,
  type StoredMessage,
} from "../store.js";
import type { RedisClient } from "@chat/runtime";
import { chatKeys } from "./keys.js";

type SendReply = [sendTime: string, sender: string, text: string, replayed: number];

declare module "ioredis" {
  interface RedisCommander<Context> {
    chatSend(
      streamKey: string,
      recordKey: string,
      sender: string,
      text: string,
      clientMessageId: string,
      ttlSeconds: number,
    ): Result<SendReply, Context>;
  }
}

const sendScript = readFileSync(new URL("./commands/send.lua", import.meta.url), "utf8");

type StreamEntry = [id: string, fields: string[]];

function toStoredMessage([id, fields]: StreamEntry): StoredMessage {
  // Entries are written by send.lua only: id "<send_time>-0", fields [s, sender, t, text].
  return { sendTime: BigInt(id.slice(0, -2)), sender: fields[1] ?? "", text: fields[3] ?? "" };
}

// Replies that mean "Redis cannot serve this right now" (a failover moves slots, a node
// loads, a shard is down), as opposed to a bug in our commands.
const transientReply = /^(CLUSTERDOWN|TRYAGAIN|MOVED|ASK|LOADING|MASTERDOWN|READONLY|NOREPLICAS|BUSY)/;

function storageError(cause: unknown): ConnectError {
  if (cause instanceof ConnectError) return cause;
  const isReply = cause instanceof Error && cause.name === "ReplyError";
  if (isReply && !transientReply.test(cause.message)) {
    return new ConnectError("storage command failed", Code.Internal, undefined, undefined, cause);
  }
  return new ConnectError("message storage is unavailable", Code.Unavailable, undefined, undefined, cause);
}

export interface RedisStoreOptions {
  /**
   * Replicas that must confirm a write (Redis WAIT) before a send succeeds; 0 trusts the
   * primary alone. A send they do not confirm in time fails as Unavailable: the message may
   * be stored, and a retry with the same client_message_id answers it without a copy.
   */
  readonly waitReplicas?: number;
  readonly waitTimeoutMs?: number;
  /**
   * Longest wait for Redis on one call, retries inside the client included (a failover can
   * hold commands while slots move); past it the call fails as Unavailable, which callers retry.
   */
  readonly timeoutMs?: number;
  /** Called for every failed command, with whether Redis was unavailable or rejected it. */
  readonly onError?: (kind: "unavailable" | "command") => void;
}

/**
 * Stores each chat as one Redis Stream. Works the same on a standalone server and on a
 * Redis Cluster: every key a command touches shares the chat's hash tag.
 */
export class RedisStore implements MessageStore {
  readonly #redis: RedisClient;
  readonly #waitReplicas: number;
  readonly #waitTimeoutMs: number;
  readonly #timeoutMs: number;
  readonly #onError: (kind: "unavailable" | "command") => void;

  constructor(redis: RedisClient, options: RedisStoreOptions = {}) {
    this.#redis = redis;
    this.#waitReplicas = options.waitReplicas ?? 0;
    this.#waitTimeoutMs = options.waitTimeoutMs ?? 500;
    this.#timeoutMs = options.timeoutMs ?? 1_000;
    this.#onError = options.onError ?? (() => {});
    redis.defineCommand("chatSend", { numberOfKeys: 2, lua: sendScript });
  }

  async append(chatId: string, input: AppendInput): Promise<AppendResult> {
    const keys = chatKeys(chatId);
    const args: Parameters<RedisClient["chatSend"]> = [
      keys.messages,
      keys.idempotency(input.clientMessageId),
      input.sender,
      input.text,
      input.clientMessageId,
      input.idempotencyTtlSeconds,
    ];
    const reply = await this.#bounded(this.#waitReplicas === 0 ? this.#redis.chatSend(...args) : this.#sendAndWait(args));
    const [sendTime, sender, text, replayed] = reply;
    return { message: { sendTime: BigInt(sendTime), sender, text }, replayed: replayed === 1 };
  }

  /** The script and WAIT in one pipeline, so WAIT reaches the primary that ran the script. */
  async #sendAndWait(args: Parameters<RedisClient["chatSend"]>): Promise<SendReply> {
    const results = await this.#redis
      .pipeline()
      .chatSend(...args)
      .wait(this.#waitReplicas, this.#waitTimeoutMs)
      .exec();
    const [[sendError, reply], [waitError, confirmed]] = results as [[Error | null, SendReply], [Error | null, number]];
    if (sendError) throw sendError;
    if (waitError) throw waitError;
    if (confirmed < this.#waitReplicas) {
      throw new ConnectError(
        `the message was not confirmed by ${this.#waitReplicas} replica(s) within ${this.#waitTimeoutMs} ms; retry with the same client_message_id`,
        Code.Unavailable,
      );
    }
    return reply;
  }

  async page(chatId: string, query: PageQuery): Promise<Page> {
    const key = chatKeys(chatId).messages;
    const count = query.limit + 1;
    const from = query.cursor === 0n ? undefined : `${query.cursor}-0`;
    const read = query.reverse
      ? this.#redis.xrevrange(key, from ?? "+", "-", "COUNT", count)
      : this.#redis.xrange(key, from ?? "-", "+", "COUNT", count);
    const entries = await this.#bounded(read);
    return toPage((entries as StreamEntry[]).map(toStoredMessage), query.limit);
  }

  async check(): Promise<void> {
    await this.#redis.ping().catch((cause: unknown) => Promise.reject(storageError(cause)));
  }

  /** Bounds `work` by the store's timeout and turns its failures into RPC errors. */
  async #bounded<T>(work: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new ConnectError(`message storage did not answer within ${this.#timeoutMs} ms`, Code.Unavailable)),
        this.#timeoutMs,
      );
    });
    try {
      return await Promise.race([work, timeout]);
    } catch (cause) {
      const error = storageError(cause);
      this.#onError(error.code === Code.Unavailable ? "unavailable" : "command");
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    // QUIT waits for pending replies; without a connection there is nothing to wait for.
    if (this.#redis.status !== "ready") return this.#redis.disconnect();
    await this.#redis.quit().catch(() => this.#redis.disconnect());
  }
}
