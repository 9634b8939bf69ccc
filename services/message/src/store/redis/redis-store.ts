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
import type { RedisClient } from "./client.js";
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

// Replies that mean "Redis cannot serve this right now", as opposed to a bug in our commands.
const transientReply = /^(CLUSTERDOWN|TRYAGAIN|LOADING|MASTERDOWN|READONLY|NOREPLICAS|BUSY)/;

function storageError(cause: unknown): ConnectError {
  const isReply = cause instanceof Error && cause.name === "ReplyError";
  if (isReply && !transientReply.test(cause.message)) {
    return new ConnectError("storage command failed", Code.Internal, undefined, undefined, cause);
  }
  return new ConnectError("message storage is unavailable", Code.Unavailable, undefined, undefined, cause);
}

export interface RedisStoreOptions {
  readonly idempotencyTtlSeconds: number;
  /** Called for every failed command, with whether Redis was unavailable or rejected it. */
  readonly onError?: (kind: "unavailable" | "command") => void;
}

/**
 * Stores each chat as one Redis Stream. Works the same on a standalone server and on a
 * Redis Cluster: every key a command touches shares the chat's hash tag.
 */
export class RedisStore implements MessageStore {
  readonly #redis: RedisClient;
  readonly #idempotencyTtlSeconds: number;
  readonly #onError: (kind: "unavailable" | "command") => void;

  constructor(redis: RedisClient, options: RedisStoreOptions) {
    this.#redis = redis;
    this.#idempotencyTtlSeconds = options.idempotencyTtlSeconds;
    this.#onError = options.onError ?? (() => {});
    redis.defineCommand("chatSend", { numberOfKeys: 2, lua: sendScript });
  }

  async append(chatId: string, input: AppendInput): Promise<AppendResult> {
    const keys = chatKeys(chatId);
    const reply = await this.#redis
      .chatSend(
        keys.messages,
        keys.idempotency(input.clientMessageId),
        input.sender,
        input.text,
        input.clientMessageId,
        this.#idempotencyTtlSeconds,
      )
      .catch((cause: unknown) => this.#fail(cause));
    const [sendTime, sender, text, replayed] = reply;
    return { message: { sendTime: BigInt(sendTime), sender, text }, replayed: replayed === 1 };
  }

  async page(chatId: string, query: PageQuery): Promise<Page> {
    const key = chatKeys(chatId).messages;
    const count = query.limit + 1;
    const from = query.cursor === 0n ? undefined : `${query.cursor}-0`;
    const read = query.reverse
      ? this.#redis.xrevrange(key, from ?? "+", "-", "COUNT", count)
      : this.#redis.xrange(key, from ?? "-", "+", "COUNT", count);
    const entries = await read.catch((cause: unknown) => this.#fail(cause));
    return toPage((entries as StreamEntry[]).map(toStoredMessage), query.limit);
  }

  async check(): Promise<void> {
    await this.#redis.ping().catch((cause: unknown) => Promise.reject(storageError(cause)));
  }

  #fail(cause: unknown): never {
    const error = storageError(cause);
    this.#onError(error.code === Code.Unavailable ? "unavailable" : "command");
    throw error;
  }

  async close(): Promise<void> {
    // QUIT waits for pending replies; without a connection there is nothing to wait for.
    if (this.#redis.status !== "ready") return this.#redis.disconnect();
    await this.#redis.quit().catch(() => this.#redis.disconnect());
  }
}
