import type { ResetReason } from "./subscriber.js";

/** What a reset tells people, by reason; the message service and the edge say the same. */
export const resetMessages: Readonly<Record<ResetReason, string>> = {
  trimmed: "retention removed messages of this chat that had not been delivered yet; pull its history again",
  lagging: "the subscriber fell too far behind and this chat's queued messages were dropped; pull its history again",
  lost: "the chat's stored history no longer holds the last message delivered (lost in a Redis failover or restart); pull its history again",
};

/** The same, for a member's stream (their log of events across all their chats). */
export const memberResetMessages: Readonly<Record<ResetReason, string>> = {
  trimmed: "the member's event log no longer holds events that had not been delivered yet (it keeps the newest ones); list the member's chats again",
  lagging: "the subscriber fell too far behind and the member's queued events were dropped; list the member's chats again",
  lost: "the member's event log no longer holds the last event delivered (lost in a Redis failover or restart); list the member's chats again",
};
