import { useState } from "preact/hooks";
import type { MemberStream } from "../events.js";
import { useMemberEvents } from "./use-member-stream.js";

/**
 * How far the other member of each chat has read, as their `read` events said since the page
 * opened. The API has no call that answers it, so until one arrives it is unknown (0).
 */
export function useReadReceipts(stream: MemberStream, me: string): ReadonlyMap<string, number> {
  const [theirReads, setTheirReads] = useState<ReadonlyMap<string, number>>(new Map());
  useMemberEvents(stream, (event) => {
    if (event.kind !== "read" || event.receipt.member === me) return;
    const { chat, read_cursor } = event.receipt;
    setTheirReads((reads) => {
      if ((reads.get(chat) ?? 0) >= read_cursor) return reads;
      return new Map(reads).set(chat, read_cursor);
    });
  });
  return theirReads;
}
