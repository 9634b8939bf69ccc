import { readFileSync } from "node:fs";
import { Code, ConnectError } from "@connectrpc/connect";
import type { ChainableCommander, Result } from "ioredis";
import type { RedisClient } from "@chat/runtime";
import { compareIds, type ChatActivity, type ChatListPage, type ListPosition, type MemberEvent, type MemberLog, type MemberLogRetention, type MemberStore, type RecordResult } from "../members.js";
import { retainedSince } from "../retention.js";
import type { ChatNotifier, StoredMessage } from "../store.js";
import type { MicrosecondClock } from "../clock.js";
import { memberKeys } from "./keys.js";
import { readContinuity, type StreamEntry } from "./stream-reads.js";

type RecordReply = [recorded: number, activity: string];
type ListReply = [ties: string[], rows: string[]];

declare module "ioredis" {
  interface RedisCommander<Context> {
    memberRecord(...args: (string | number)[]): Result<RecordReply, Context>;
    memberRead(...args: (string | number)[]): Result<string, Context>;
    memberList(...args: (string | number)[]): Result<ListReply, Context>;
  }
}

const commandFile = (name: string) => readFileSync(new URL(`./commands/${name}.lua`, import.meta.url), "utf8");
const memberLogLibrary = commandFile("member-log");

/** A member script as Redis runs it: the functions of member-log.lua, then the script. */
export function memberScript(name: "member-record" | "member-read" | "member-list"): string {
  return `${memberLogLibrary}\n${commandFile(name)}`;
}

export interface RedisMembersOptions {
  readonly log: MemberLogRetention;
  /** Chats quiet for longer leave the list (the chats' own retention by age), 0 for never. */
  readonly chatMaxAgeSeconds: number;
  readonly clock: MicrosecondClock;
  /** Bounds a command by the store's timeout and maps its failure (see RedisStore). */
  readonly bounded: <T>(work: Promise<T>) => Promise<T>;
  /**
   * Replicas that must confirm each write (WAIT), as for sends: a member's log must survive a
   * failover as the messages it records do, or a stream could be handed an event twice.
   */
  readonly waitReplicas: number;
  readonly waitTimeoutMs: number;
  readonly notifier: ChatNotifier;
}

function toEvent([id, fields]: StreamEntry): MemberEvent {
  // Entries are written by member-record.lua and member-read.lua only: fields e, c, s, t, p.
  const sendTime = BigInt(id.slice(0, -2));
  const [, kind, , chatId = "", , who = "", , text = "", , at = "0"] = fields;
  if (kind === "r") return { sendTime, kind: "read", chatId, reader: who, readCursor: BigInt(at) };
  return { sendTime, kind: "message", chatId, message: { sendTime: BigInt(at), sender: who, text } };
}

/** Rows of member-list.lua: chat id, activity, read cursor, the other's read cursor, in fours. */
function toRows(flat: readonly string[]): ChatActivity[] {
  const rows: ChatActivity[] = [];
  for (let i = 0; i + 3 < flat.length; i += 4) {
    rows.push({ chatId: flat[i]!, activity: BigInt(flat[i + 1]!), readCursor: BigInt(flat[i + 2] || "0"), otherReadCursor: BigInt(flat[i + 3] || "0") });
  }
  return rows;
}

/** Members' lists, read cursors and logs in Redis, each member's keys in the member's slot. */
export class RedisMembers implements MemberStore {
  readonly #redis: RedisClient;
  readonly #options: RedisMembersOptions;
  readonly log: MemberLog;

  constructor(redis: RedisClient, options: RedisMembersOptions) {
    this.#redis = redis;
    this.#options = options;
    redis.defineCommand("memberRecord", { numberOfKeys: 4, lua: memberScript("member-record") });
    redis.defineCommand("memberRead", { numberOfKeys: 3, lua: memberScript("member-read") });
    redis.defineCommand("memberList", { numberOfKeys: 3, lua: memberScript("member-list") });
    const { bounded } = options;
    this.log = {
      after: async (member, position, limit) => {
        const since = this.#logSince();
        const from = position + 1n > since ? `(${position}-0` : `${since}-0`;
        const entries = await bounded(redis.xrange(memberKeys(member).events, from, "+", "COUNT", limit));
        return (entries as StreamEntry[]).map(toEvent);
      },
      newest: async (member) => {
        const [entry] = (await bounded(redis.xrevrange(memberKeys(member).events, "+", "-", "COUNT", 1))) as StreamEntry[];
        return entry ? BigInt(entry[0].slice(0, -2)) : 0n;
      },
      continuity: (member, position) => bounded(readContinuity(redis, memberKeys(member).events, position, this.#logSince())),
      notifier: options.notifier,
    };
  }

  async record(member: string, chatId: string, messages: readonly StoredMessage[], after: bigint): Promise<RecordResult> {
    const keys = memberKeys(member);
    const { maxEvents, maxAgeSeconds } = this.#options.log;
    const args: (string | number)[] = [keys.chats, keys.read, keys.events, keys.wake, member, chatId, after.toString(), maxEvents, maxAgeSeconds * 1000, this.#listSince().toString()];
    for (const { sendTime, sender, text } of messages) args.push(sendTime.toString(), sender, text);
    const [recorded, activity] = await this.#confirmed((redis) => redis.memberRecord(...args));
    return recorded === 1 ? { recorded: true } : { recorded: false, at: BigInt(activity) };
  }

  async read(member: string, chatId: string, reader: string, cursor: bigint): Promise<bigint> {
    const keys = memberKeys(member);
    const own = reader === member;
    const { maxEvents, maxAgeSeconds } = this.#options.log;
    const reply = await this.#confirmed((redis) =>
      redis.memberRead(own ? keys.read : keys.receipts, keys.events, keys.wake, own ? chatId : `${chatId}\n${reader}`, chatId, reader, cursor.toString(), maxEvents, maxAgeSeconds * 1000),
    );
    return BigInt(reply);
  }

  async list(member: string, from: ListPosition | undefined, limit: number): Promise<ChatListPage> {
    const keys = memberKeys(member);
    const [ties, rows] = await this.#options.bounded(
      this.#redis.memberList(keys.chats, keys.read, keys.receipts, from?.activity.toString() ?? "", from?.chatId ?? "", limit + 1, this.#listSince().toString(), member),
    );
    // Ties come ascending; below the cursor in list order means a lower chat id.
    const below = from ? toRows(ties).filter((row) => compareIds(row.chatId, from.chatId) < 0).reverse() : [];
    const all = [...below, ...toRows(rows)];
    return { chats: all.slice(0, limit), hasMore: all.length > limit };
  }

  /**
   * Runs one write script; with waitReplicas, in one pipeline with a WAIT after it (so the
   * WAIT reaches the node that ran it), failing as Unavailable when too few replicas confirm.
   */
  #confirmed<T>(write: (redis: RedisClient | ChainableCommander) => Promise<T> | ChainableCommander): Promise<T> {
    const { waitReplicas, waitTimeoutMs, bounded } = this.#options;
    if (waitReplicas === 0) return bounded(write(this.#redis) as Promise<T>);
    const pipeline = this.#redis.pipeline();
    write(pipeline);
    pipeline.wait(waitReplicas, waitTimeoutMs);
    return bounded(
      pipeline.exec().then((results) => {
        const [[writeError, reply] = [new Error("no reply to the script"), undefined], [waitError, confirmed] = [new Error("no reply to WAIT"), 0]] = (results ??
          []) as [Error | null, unknown][];
        if (writeError) throw writeError;
        if (waitError) throw waitError;
        if ((confirmed as number) < waitReplicas) {
          throw new ConnectError(`the member's record was not confirmed by ${waitReplicas} replica(s) within ${waitTimeoutMs} ms; retry`, Code.Unavailable);
        }
        return reply as T;
      }),
    );
  }

  #logSince(): bigint {
    return retainedSince({ maxMessages: 0, maxAgeSeconds: this.#options.log.maxAgeSeconds }, this.#options.clock());
  }

  #listSince(): bigint {
    return retainedSince({ maxMessages: 0, maxAgeSeconds: this.#options.chatMaxAgeSeconds }, this.#options.clock());
  }
}
