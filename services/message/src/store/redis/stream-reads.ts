import type { RedisClient } from "@chat/runtime";
import { continuityOf } from "../continuity.js";
import type { Continuity } from "../store.js";

/** A stream entry as ioredis answers it: its id and its fields, name and value in turn. */
export type StreamEntry = [id: string, fields: string[]];

/**
 * Whether reading a stream on after `position` leaves no gap (continuity.ts), for streams
 * whose entry ids are "<position>-0": one round trip, the position's entry and XINFO.
 * `retainedSince` is where reads start by age (0n for no limit).
 */
export async function readContinuity(redis: RedisClient, key: string, position: bigint, retainedSince: bigint): Promise<Continuity> {
  const pipeline = redis.pipeline();
  pipeline.xrange(key, `${position}-0`, `${position}-0`);
  pipeline.xinfo("STREAM", key);
  const [[rangeError, atPosition] = [null, []], [infoError, info] = [null, []]] = (await pipeline.exec()) ?? [];
  if (rangeError) throw rangeError;
  // A stream never written (or expired whole) does not exist.
  if (infoError && !/no such key/i.test(infoError.message)) throw infoError;
  const field = (name: string) => {
    const fields = (info ?? []) as unknown[];
    const at = fields.indexOf(name);
    return at >= 0 ? fields[at + 1] : undefined;
  };
  const first = field("first-entry") as StreamEntry | null | undefined;
  // entries-added (Redis 7) counts every entry ever added; trimming lowers only length.
  const added = Number(field("entries-added") ?? 0);
  return continuityOf(position, {
    exists: Array.isArray(atPosition) && atPosition.length > 0,
    oldest: first ? BigInt(first[0].slice(0, -2)) : 0n,
    removedAny: added > Number(field("length") ?? 0),
    retainedSince,
  });
}
