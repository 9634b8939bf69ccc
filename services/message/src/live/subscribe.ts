import type { MessageInitShape } from "@bufbuild/protobuf";
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import { ResetReason as ResetReasonCode, type MessageService, type SubscribeResponseSchema } from "@chat/proto";
import { authorizeSubscribe, callingUser } from "../chat/access.js";
import { validateSubscribe, type ChatLimits } from "../chat/rules.js";
import type { LiveHub } from "./live-hub.js";
import { chatMark, decodeResumeToken, MalformedResumeToken } from "@chat/proto/internal";
import { resetMessages, Subscriber, type LiveEvent, type ResetReason } from "@chat/streams";

export interface SubscribeOptions {
  /** Events queued for one subscription before its messages are dropped for resets (lagging). */
  readonly queueLimit: number;
  /** A heartbeat is sent after this long without another event. */
  readonly heartbeatMs: number;
}

type Response = MessageInitShape<typeof SubscribeResponseSchema>;

const resetCodes: Record<ResetReason, ResetReasonCode> = {
  trimmed: ResetReasonCode.TRIMMED,
  lagging: ResetReasonCode.LAGGING,
  lost: ResetReasonCode.HISTORY_LOST,
};

/** The positions a resume token holds; InvalidArgument when it is not one. */
function resumePositions(token: string): Map<bigint, bigint> {
  if (token === "") return new Map();
  try {
    return decodeResumeToken(token);
  } catch (error) {
    if (error instanceof MalformedResumeToken) throw new ConnectError(error.message, Code.InvalidArgument);
    throw error;
  }
}

function toResponse(event: LiveEvent, resumeToken: string): Response {
  if (event.kind === "reset") {
    const reset = { chat: event.chatId, reason: resetCodes[event.reason], message: resetMessages[event.reason] };
    return { event: { case: "reset", value: reset }, resumeToken };
  }
  const { sendTime, sender, text } = event.message;
  return { event: { case: "message", value: { chat: event.chatId, sendTime, sender, text } }, resumeToken };
}

/**
 * Subscribe: the chat rules and access checks, then a Subscriber joined to every chat's
 * feed (live-hub.ts). The first event (`ready`) goes out once every chat's start is fixed;
 * a heartbeat follows every quiet `heartbeatMs`. The subscription ends when the caller
 * goes away (the call's signal aborts), or, with end_when_caught_up, once nothing is queued.
 */
export function subscribeMethod(
  hub: LiveHub,
  { limits, requireUser }: { readonly limits: ChatLimits; readonly requireUser: boolean },
  options: SubscribeOptions,
): ServiceImpl<typeof MessageService>["subscribe"] {
  return async function* subscribe(request, context) {
    const query = validateSubscribe(request, limits);
    authorizeSubscribe(
      query.chats.map(({ chat }) => chat),
      callingUser(context.requestHeader, requireUser),
    );
    const marks = resumePositions(request.resumeToken);
    const starts = query.chats.map(({ chat, cursor }) => {
      const mark = marks.get(chatMark(chat.id));
      return { chatId: chat.id, position: mark ?? (cursor > 0n ? cursor - 1n : undefined), resumed: mark !== undefined };
    });
    const subscriber = new Subscriber(options.queueLimit);
    await hub.join(subscriber, starts);
    // The caller going away ends the subscription: nothing more to send, nothing to report.
    const leave = () => subscriber.end();
    context.signal.addEventListener("abort", leave, { once: true });
    if (context.signal.aborted) leave();
    try {
      yield { event: { case: "ready", value: { chats: starts.map(({ chatId }) => chatId) } }, resumeToken: subscriber.resumeToken() };
      for (;;) {
        if (request.endWhenCaughtUp && subscriber.backlog === 0) return;
        const next = await subscriber.next(options.heartbeatMs);
        if (next === "ended") return;
        yield next === "quiet" ? { event: { case: "heartbeat", value: {} } } : toResponse(next.event, next.resumeToken);
      }
    } finally {
      context.signal.removeEventListener("abort", leave);
      hub.leave(
        subscriber,
        starts.map(({ chatId }) => chatId),
      );
    }
  };
}
