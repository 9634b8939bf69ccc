import type { ResetReason } from "./subscriber.js";

/** What a reset tells people, by reason; the message service and the edge say the same. */
export const resetMessages: Readonly<Record<ResetReason, string>> = {
  trimmed: "retention removed messages of this chat that had not been delivered yet; pull its history again",
  lagging: "the subscriber fell too far behind and this chat's queued messages were dropped; pull its history again",
  lost: "the chat's stored history no longer holds the last message delivered (lost in a Redis failover or restart); pull its history again",
};
