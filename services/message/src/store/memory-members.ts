import { EventEmitter } from "node:events";
import { systemClock, type MicrosecondClock } from "./clock.js";
import { continuityOf } from "./continuity.js";
import { lowerBound } from "./lower-bound.js";
import { compareIds, otherMember, type ChatActivity, type ChatListPage, type ListPosition, type MemberEvent, type MemberLog, type MemberLogRetention, type MemberStore, type RecordResult } from "./members.js";
import { retainedSince } from "./retention.js";
import type { ChatNotifier, StoredMessage } from "./store.js";

interface MemberRecord {
  /** Chat id to its activity (send_time of the newest message recorded). */
  readonly activity: Map<string, bigint>;
  /** Chat id to the member's read cursor. */
  readonly read: Map<string, bigint>;
  /** `${chat}\n${reader}` to the other member's read cursor, as last logged. */
  readonly receipts: Map<string, bigint>;
  /** Ascending by sendTime. */
  readonly events: MemberEvent[];
  /** Whether retention ever removed an event. */
  removedAny: boolean;
}

export interface MemoryMembersOptions {
  readonly clock?: MicrosecondClock;
  readonly log?: MemberLogRetention;
  /** Chats quiet for longer leave the list (the chats' own retention by age), 0 for never. */
  readonly chatMaxAgeSeconds?: number;
}

/** Members' lists, read cursors and logs in process memory, with the Redis engine's semantics. */
export class MemoryMembers implements MemberStore {
  readonly #members = new Map<string, MemberRecord>();
  readonly #clock: MicrosecondClock;
  readonly #retention: MemberLogRetention;
  readonly #chatMaxAgeSeconds: number;
  readonly #wakeUps = new EventEmitter().setMaxListeners(0);
  readonly log: MemberLog;

  constructor(options: MemoryMembersOptions = {}) {
    this.#clock = options.clock ?? systemClock;
    this.#retention = options.log ?? { maxEvents: 0, maxAgeSeconds: 0 };
    this.#chatMaxAgeSeconds = options.chatMaxAgeSeconds ?? 0;
    const notifier: ChatNotifier = {
      watch: async (member, wake) => {
        this.#wakeUps.on(member, wake);
        return () => void this.#wakeUps.off(member, wake);
      },
      onMissedWakeUps: () => () => {},
    };
    this.log = {
      after: async (member, position, limit) => {
        const events = this.#member(member).events;
        const since = this.#logSince();
        const start = lowerBound(events, position + 1n > since ? position + 1n : since);
        return events.slice(start, start + limit);
      },
      newest: async (member) => this.#member(member).events.at(-1)?.sendTime ?? 0n,
      continuity: async (member, position) => {
        const { events, removedAny } = this.#member(member);
        return continuityOf(position, {
          exists: events[lowerBound(events, position)]?.sendTime === position,
          oldest: events[0]?.sendTime ?? 0n,
          removedAny,
          retainedSince: this.#logSince(),
        });
      },
      notifier,
    };
  }

  async record(member: string, chatId: string, messages: readonly StoredMessage[], after: bigint): Promise<RecordResult> {
    const record = this.#member(member);
    const at = record.activity.get(chatId) ?? 0n;
    const newest = messages.at(-1);
    if (!newest || at >= newest.sendTime) return { recorded: true };
    // Behind `after`, the messages given would leave a gap.
    if (after < 0n || at < after) return { recorded: false, at };
    for (const message of messages) {
      if (message.sendTime <= at) continue;
      this.#append(member, record, (sendTime) => ({ sendTime, kind: "message", chatId, message }));
      if (message.sender === member && message.sendTime > (record.read.get(chatId) ?? 0n)) record.read.set(chatId, message.sendTime);
    }
    record.activity.set(chatId, newest.sendTime);
    this.#pruneList(record);
    return { recorded: true };
  }

  async read(member: string, chatId: string, reader: string, cursor: bigint): Promise<bigint> {
    const record = this.#member(member);
    const cursors = reader === member ? record.read : record.receipts;
    const key = reader === member ? chatId : `${chatId}\n${reader}`;
    const current = cursors.get(key) ?? 0n;
    if (cursor <= current) return current;
    cursors.set(key, cursor);
    this.#append(member, record, (sendTime) => ({ sendTime, kind: "read", chatId, reader, readCursor: cursor }));
    return cursor;
  }

  async list(member: string, from: ListPosition | undefined, limit: number): Promise<ChatListPage> {
    const record = this.#members.get(member);
    if (!record) return { chats: [], hasMore: false };
    this.#pruneList(record);
    const rows: ChatActivity[] = [...record.activity]
      .map(([chatId, activity]) => ({
        chatId,
        activity,
        readCursor: record.read.get(chatId) ?? 0n,
        otherReadCursor: record.receipts.get(`${chatId}\n${otherMember(chatId, member)}`) ?? 0n,
      }))
      .filter((row) => !from || row.activity < from.activity || (row.activity === from.activity && compareIds(row.chatId, from.chatId) < 0))
      .sort((a, b) => (a.activity === b.activity ? compareIds(b.chatId, a.chatId) : a.activity < b.activity ? 1 : -1));
    return { chats: rows.slice(0, limit), hasMore: rows.length > limit };
  }

  #member(member: string): MemberRecord {
    let record = this.#members.get(member);
    if (!record) {
      record = { activity: new Map(), read: new Map(), receipts: new Map(), events: [], removedAny: false };
      this.#members.set(member, record);
    }
    return record;
  }

  /** Appends an event at the log's clock (one past its newest when the clock has not moved on). */
  #append(member: string, record: MemberRecord, event: (sendTime: bigint) => MemberEvent): void {
    const now = this.#clock();
    const last = record.events.at(-1)?.sendTime ?? 0n;
    record.events.push(event(now > last ? now : last + 1n));
    const { maxEvents } = this.#retention;
    const tooOld = lowerBound(record.events, this.#logSince());
    const removed = Math.max(tooOld, maxEvents > 0 ? record.events.length - maxEvents : 0);
    if (removed > 0) {
      record.events.splice(0, removed);
      record.removedAny = true;
    }
    this.#wakeUps.emit(member);
  }

  #logSince(): bigint {
    return retainedSince({ maxMessages: 0, maxAgeSeconds: this.#retention.maxAgeSeconds }, this.#clock());
  }

  /** Chats whose every message is past the chats' retention by age leave the list. */
  #pruneList(record: MemberRecord): void {
    const since = retainedSince({ maxMessages: 0, maxAgeSeconds: this.#chatMaxAgeSeconds }, this.#clock());
    if (since === 0n) return;
    for (const [chatId, activity] of record.activity) {
      if (activity < since) {
        record.activity.delete(chatId);
        record.read.delete(chatId);
      }
    }
  }
}
