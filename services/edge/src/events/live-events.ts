import { ResetReason as ResetReasonCode, type Message } from "@chat/proto";
import { resetMessages, type LiveEvent, type LiveMessage, type ResetReason } from "@chat/streams";
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
