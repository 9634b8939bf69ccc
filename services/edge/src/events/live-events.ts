import { ResetReason as ResetReasonCode, type Message, type SubscribeResponse } from "@chat/proto";
import { memberResetMessages, resetMessages, type LiveEvent, type LiveMessage, type ResetReason } from "@chat/streams";
import type { SseEvent } from "./sse-response.js";

/** The message service's messages and reset reasons as the edge's subscribers take them. */
export function liveMessage(message: Message): LiveMessage {
  return { sendTime: message.sendTime, sender: message.sender, text: message.text };
}

const reasonsByCode: Record<ResetReasonCode, ResetReason> = {
  [ResetReasonCode.UNSPECIFIED]: "lost",
  [ResetReasonCode.TRIMMED]: "trimmed",
  [ResetReasonCode.LAGGING]: "lagging",
  [ResetReasonCode.HISTORY_LOST]: "lost",
};

export function resetReason(code: ResetReasonCode): ResetReason {
  return reasonsByCode[code];
}

/** How the REST API names reset reasons. */
const restReasons: Record<ResetReason, string> = { trimmed: "trimmed", lagging: "lagging", lost: "history_lost" };

/** The last message event made: the streams of a chat all send the same one in turn. */
let last: { readonly message: LiveMessage; readonly event: SseEvent } | undefined;

/** One event of a subscriber as its Server-Sent Event; `data` of a message is the object /api/pull shows. */
export function toSse(event: LiveEvent, resumeToken: string): SseEvent {
  if (event.kind === "reset") {
    return { id: resumeToken, event: "reset", data: { chat: event.chatId, reason: restReasons[event.reason], message: resetMessages[event.reason] } };
  }
  const { message, chatId } = event;
  if (last?.message === message && last.event.id === resumeToken) return last.event;
  const data = { chat: chatId, text: message.text, sender: message.sender, send_time: Number(message.sendTime) };
  last = { message, event: { id: resumeToken, event: "message", data } };
  return last.event;
}

/**
 * One event of a member subscription as its Server-Sent Event, with the service's resume
 * token as its id; undefined for what clients are not sent (ready, heartbeats). `data` of
 * a message is the object /api/pull shows.
 */
export function memberEventToSse({ event, resumeToken: id }: SubscribeResponse): SseEvent | undefined {
  switch (event.case) {
    case "message": {
      const { chat, text, sender, sendTime } = event.value;
      return { id, event: "message", data: { chat, text, sender, send_time: Number(sendTime) } };
    }
    case "read": {
      const { chat, member, readCursor } = event.value;
      return { id, event: "read", data: { chat, member, read_cursor: Number(readCursor) } };
    }
    case "reset": {
      const reason = resetReason(event.value.reason);
      return { id, event: "reset", data: { member: event.value.member, reason: restReasons[reason], message: memberResetMessages[reason] } };
    }
    default:
      return undefined;
  }
}
