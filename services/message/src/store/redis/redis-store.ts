import { readFileSync } from "node:fs";
import { Code, ConnectError } from "@connectrpc/connect";
import type { Result } from "ioredis";
import type { RedisClient } from "@chat/runtime";
import { keepEverything, retainedSince } from "../retention.js";
import { retryScanExhausted } from "../retry-keys.js";
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
} from "../store.js";
import { systemClock, type MicrosecondClock } from "../clock.js";
import type { MemberLogRetention, MemberStore } from "../members.js";
import { chatKeys } from "./keys.js";
import { RedisMembers } from "./redis-members.js";
import { readContinuity, type StreamEntry } from "./stream-reads.js";
import { sendScriptArgs, sendScriptKeyCount, type SendScriptArgs, type SendSettings } from "./send-command.js";

type SendReply = [sendTime: string, sender: string, text: string, replayed: number, previous?: string];
type SummaryReply = [newestId: string, sender: string, text: string, unread: number];

declare module "ioredis" {
  interface RedisCommander<Context> {
    chatSend(...args: SendScriptArgs): Result<SendReply, Context>;
    chatSummary(stream: string, member: string, from: string, cap: number, oldest: string): Result<SummaryReply, Context>;
  }
}

const sendScript = readFileSync(new URL("./commands/send.lua", import.meta.url), "utf8");
const summaryScript = readFileSync(new URL("./commands/summary.lua", import.meta.url), "utf8");


/** What send.lua answers: [send_time, sender, text, replayed, previous when stored]. */
function isSendReply(reply: unknown): reply is SendReply {
  return Array.isArray(reply) && (reply.length === 4 || reply.length === 5);
}

function toStoredMessage([id, fields]: StreamEntry): StoredMessage {
  // Entries are written by send.lua only: id "<send_time>-0", fields [s, sender, t, text].
  return { sendTime: BigInt(id.slice(0, -2)), sender: fields[1] ?? "", text: fields[3] ?? "" };
}

// Replies that mean "Redis cannot serve this right now" (a failover moves slots, a node
// loads, a shard is down), as opposed to a bug in our commands.
// NOSCRIPT: a new master after a failover has not loaded the script yet; the next call loads it.
const transientReply = /^(CLUSTERDOWN|TRYAGAIN|MOVED|ASK|LOADING|MASTERDOWN|READONLY|NOREPLICAS|BUSY|NOSCRIPT)/;

// maxmemory reached under noeviction: writes are refused until memory frees; reads work.
const fullReply = /^OOM /;

/** Why a command failed, as the store counts it. */
export type StorageErrorKind = "unavailable" | "full" | "command";

function storageError(cause: unknown): { error: ConnectError; kind: StorageErrorKind } {
  if (cause instanceof ConnectError) return { error: cause, kind: "unavailable" };
  const isReply = cause instanceof Error && cause.name === "ReplyError";
  if (isReply && fullReply.test(cause.message)) {
    const error = new ConnectError("message storage is full; retry later", Code.Unavailable, undefined, undefined, cause);
    return { error, kind: "full" };
  }
  if (isReply && cause.message.startsWith("RETRYSCAN")) return { error: retryScanExhausted(), kind: "unavailable" };
  if (isReply && !transientReply.test(cause.message)) {
    return { error: new ConnectError("storage command failed", Code.Internal, undefined, undefined, cause), kind: "command" };
  }
  return { error: new ConnectError("message storage is unavailable", Code.Unavailable, undefined, undefined, cause), kind: "unavailable" };
}

export interface RedisStoreOptions extends Partial<SendSettings> {
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
  /** Called for every failed command, with whether Redis was unavailable, full, or rejected it. */
  readonly onError?: (kind: StorageErrorKind) => void;
  /** Clock for reads by age (retention); the server's clock for writes. */
  readonly clock?: MicrosecondClock;
  /** Wake-ups for live readers (see redis-notifier.ts), closed with the store; none by default. */
  readonly notifier?: ChatNotifier & { close(): Promise<void> };
  /** Wake-ups for readers of members' logs, closed with the store; none by default. */
  readonly memberNotifier?: ChatNotifier & { close(): Promise<void> };
  /** What members' logs keep; everything by default. */
  readonly memberLog?: MemberLogRetention;
}

const noWakeUps = { watch: async () => () => {}, onMissedWakeUps: () => () => {}, close: async () => {} };


/** A send waiting for its group's pipeline (its script, then one WAIT for the group). */
interface PendingSend {
  readonly args: SendScriptArgs;
  resolve(reply: SendReply): void;
  reject(error: unknown): void;
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
  readonly #onError: (kind: StorageErrorKind) => void;
  readonly #settings: SendSettings;
  readonly #clock: MicrosecondClock;
  readonly notifier: ChatNotifier & { close(): Promise<void> };
  readonly #memberNotifier: ChatNotifier & { close(): Promise<void> };
  readonly members: MemberStore;
  /** Sends of this event-loop turn waiting to be committed together (standalone Redis). */
  #pending: PendingSend[] = [];

  constructor(redis: RedisClient, options: RedisStoreOptions = {}) {
    this.#redis = redis;
    this.#waitReplicas = options.waitReplicas ?? 0;
    this.#waitTimeoutMs = options.waitTimeoutMs ?? 500;
    this.#timeoutMs = options.timeoutMs ?? 1_000;
    this.#onError = options.onError ?? (() => {});
    this.#settings = {
      retention: options.retention ?? keepEverything,
      idempotencyWindowSeconds: options.idempotencyWindowSeconds ?? 86_400,
    };
    this.#clock = options.clock ?? systemClock;
    this.notifier = options.notifier ?? noWakeUps;
    this.#memberNotifier = options.memberNotifier ?? noWakeUps;
    this.members = new RedisMembers(redis, {
      log: options.memberLog ?? { maxEvents: 0, maxAgeSeconds: 0 },
      chatMaxAgeSeconds: this.#settings.retention.maxAgeSeconds,
      clock: this.#clock,
      bounded: (work) => this.#bounded(work),
      waitReplicas: this.#waitReplicas,
      waitTimeoutMs: this.#waitTimeoutMs,
      notifier: this.#memberNotifier,
    });
    redis.defineCommand("chatSend", { numberOfKeys: sendScriptKeyCount, lua: sendScript });
    redis.defineCommand("chatSummary", { numberOfKeys: 1, lua: summaryScript });
  }

  async append(chatId: string, input: AppendInput): Promise<AppendResult> {
    const args = sendScriptArgs(chatId, input, this.#settings);
    const reply = await this.#bounded(this.#waitReplicas === 0 ? this.#redis.chatSend(...args) : this.#sendAndWait(args));
    const [sendTime, sender, text, replayed, previous] = reply;
    const message = { sendTime: BigInt(sendTime), sender, text };
    return replayed === 1 ? { message, replayed: true } : { message, replayed: false, previous: BigInt(previous ?? "0") };
  }

  /**
   * Runs the send script and has the write confirmed by replicas (group commit). WAIT blocks
   * the connection it is sent on until the replicas have every write that connection made
   * before it, so sends are grouped by connection and each group goes as one pipeline: its
   * scripts, then one WAIT that confirms them all. One WAIT per send would hold the
   * connection for a replication round trip each, one send after another. A group is every
   * send of one event-loop turn (a SendBatch arrives as many) on a standalone server. On a
   * cluster each send keeps a pipeline of its own (its script, then WAIT): ioredis retries a
   * cluster pipeline after a failover's redirections by replaying its commands, and a replay
   * of several scripts was seen to mix up their replies.
   */
  #sendAndWait(args: SendScriptArgs): Promise<SendReply> {
    if (this.#redis.isCluster) {
      return new Promise<SendReply>((resolve, reject) => void this.#commitGroup([{ args, resolve, reject }]));
    }
    return new Promise<SendReply>((resolve, reject) => {
      this.#pending.push({ args, resolve, reject });
      if (this.#pending.length > 1) return;
      setImmediate(() => {
        const group = this.#pending;
        this.#pending = [];
        void this.#commitGroup(group);
      });
    });
  }

  /** One group's scripts and one WAIT in one pipeline, so WAIT reaches the primary that ran them. */
  async #commitGroup(sends: readonly PendingSend[]): Promise<void> {
    try {
      const pipeline = this.#redis.pipeline();
      for (const send of sends) pipeline.chatSend(...send.args);
      pipeline.wait(this.#waitReplicas, this.#waitTimeoutMs);
      const results = ((await pipeline.exec()) ?? []) as [Error | null, unknown][];
      const [waitError, confirmed] = results[sends.length] ?? [new Error("no reply to WAIT"), 0];
      const unconfirmed =
        waitError ??
        ((confirmed as number) < this.#waitReplicas
          ? new ConnectError(
              `the message was not confirmed by ${this.#waitReplicas} replica(s) within ${this.#waitTimeoutMs} ms; retry with the same client_message_id`,
              Code.Unavailable,
            )
          : undefined);
      sends.forEach((send, index) => {
        const [sendError, reply] = results[index] ?? [new Error("no reply to the send script"), undefined];
        if (sendError) send.reject(sendError);
        else if (unconfirmed) send.reject(unconfirmed);
        else if (!isSendReply(reply)) send.reject(new Error(`unexpected reply to the send script: ${typeof reply}`));
        else send.resolve(reply);
      });
    } catch (error) {
      for (const send of sends) send.reject(error);
    }
  }

  /**
   * One range read of limit + 1 entries, and, unless that read starts at the oldest retained
   * entry, a read of that entry (history_start): one round trip either way.
   */
  async page(chatId: string, query: PageQuery): Promise<Page> {
    const key = chatKeys(chatId).messages;
    const count = query.limit + 1;
    const since = retainedSince(this.#settings.retention, this.#clock());
    const oldest = since === 0n ? "-" : `${since}-0`;
    const pipeline = this.#redis.pipeline();
    if (query.reverse) pipeline.xrevrange(key, query.cursor === 0n ? "+" : `${query.cursor}-0`, oldest, "COUNT", count);
    else pipeline.xrange(key, query.cursor > since ? `${query.cursor}-0` : oldest, "+", "COUNT", count);
    const pageStartsAtOldest = !query.reverse && query.cursor <= since;
    if (!pageStartsAtOldest) pipeline.xrange(key, oldest, "+", "COUNT", 1);
    const replies = (await this.#bounded(pipeline.exec())) ?? [];
    const [page = [], oldestOnly = []] = replies.map(([error, reply]) => {
      if (error) throw this.#failed(error);
      return reply as StreamEntry[];
    });
    const oldestEntry = pageStartsAtOldest ? page[0] : oldestOnly[0];
    const historyStart = oldestEntry ? toStoredMessage(oldestEntry).sendTime : 0n;
    const messages = page.map(toStoredMessage);
    return toPage(messages, query.limit, historyStart);
  }

  async after(chatId: string, sendTime: bigint, limit: number): Promise<StoredMessage[]> {
    const since = retainedSince(this.#settings.retention, this.#clock());
    const from = sendTime + 1n > since ? `(${sendTime}-0` : `${since}-0`;
    const entries = await this.#bounded(this.#redis.xrange(chatKeys(chatId).messages, from, "+", "COUNT", limit));
    return (entries as StreamEntry[]).map(toStoredMessage);
  }

  async newest(chatId: string): Promise<bigint> {
    const [entry] = (await this.#bounded(this.#redis.xrevrange(chatKeys(chatId).messages, "+", "-", "COUNT", 1))) as StreamEntry[];
    return entry ? toStoredMessage(entry).sendTime : 0n;
  }

  async summary(chatId: string, member: string, readCursor: bigint, cap: number): Promise<ChatSummary> {
    const since = retainedSince(this.#settings.retention, this.#clock());
    const from = readCursor + 1n > since ? `(${readCursor}-0` : `${since}-0`;
    const oldest = since === 0n ? "-" : `${since}-0`;
    const [newestId, sender, text, unread] = await this.#bounded(this.#redis.chatSummary(chatKeys(chatId).messages, member, from, cap, oldest));
    const last = newestId === "" ? undefined : { sendTime: BigInt(newestId.slice(0, -2)), sender, text };
    return { last, unread: Math.min(unread, cap), capped: unread > cap };
  }

  continuity(chatId: string, position: bigint): Promise<Continuity> {
    return this.#bounded(readContinuity(this.#redis, chatKeys(chatId).messages, position, retainedSince(this.#settings.retention, this.#clock())));
  }

  async check(): Promise<void> {
    await this.#redis.ping().catch((cause: unknown) => Promise.reject(storageError(cause).error));
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
      throw this.#failed(cause);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Counts a failed command and turns it into the RPC error callers get. */
  #failed(cause: unknown): ConnectError {
    const { error, kind } = storageError(cause);
    this.#onError(kind);
    return error;
  }

  async close(): Promise<void> {
    await this.notifier.close();
    await this.#memberNotifier.close();
    // QUIT waits for pending replies; without a connection there is nothing to wait for.
    if (this.#redis.status !== "ready") return this.#redis.disconnect();
    await this.#redis.quit().catch(() => this.#redis.disconnect());
  }
}
