import type { MessageInitShape } from "@bufbuild/protobuf";
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import { ResetReason as ResetReasonCode, type MessageService, type SubscribeResponseSchema } from "@chat/proto";
import { authorizeMember, authorizeSubscribe, callingUser } from "../chat/access.js";
import { validateMember, validateSubscribe, type ChatLimits } from "../chat/rules.js";
import type { MemberEvent } from "../store/members.js";
import type { StoredMessage } from "../store/store.js";
import type { ChatStart, LiveHub } from "./live-hub.js";
import { chatMark, decodeResumeToken, MalformedResumeToken } from "@chat/proto/internal";
import { memberResetMessages, resetMessages, Subscriber, type LiveEvent, type Positioned, type ResetReason } from "@chat/streams";

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

function toResponse(event: LiveEvent<StoredMessage>, resumeToken: string): Response {
  if (event.kind === "reset") {
    const reset = { chat: event.chatId, reason: resetCodes[event.reason], message: resetMessages[event.reason] };
    return { event: { case: "reset", value: reset }, resumeToken };
  }
  const { sendTime, sender, text } = event.message;
  return { event: { case: "message", value: { chat: event.chatId, sendTime, sender, text } }, resumeToken };
}

/** On a member subscription the feed is the member's log, named by the member id. */
function toMemberResponse(event: LiveEvent<MemberEvent>, resumeToken: string): Response {
  if (event.kind === "reset") {
    const reset = { member: event.chatId, reason: resetCodes[event.reason], message: memberResetMessages[event.reason] };
    return { event: { case: "reset", value: reset }, resumeToken };
  }
  const logged = event.message;
  if (logged.kind === "read") {
    return { event: { case: "read", value: { chat: logged.chatId, member: logged.reader, readCursor: logged.readCursor } }, resumeToken };
  }
  const { sendTime, sender, text } = logged.message;
  return { event: { case: "message", value: { chat: logged.chatId, sendTime, sender, text } }, resumeToken };
}


/**
 * Subscribe: the chat rules and access checks, then a Subscriber joined to every chat's
 * feed (live-hub.ts), or, for a member, to the feed of the member's log. The first event
 * (`ready`) goes out once every start is fixed; a heartbeat follows every quiet
 * `heartbeatMs`. The subscription ends when the caller goes away (the call's signal aborts),
 * or, with end_when_caught_up, once nothing is queued.
 */
export function subscribeMethod(
  hubs: { readonly hub: LiveHub; readonly members: LiveHub<MemberEvent> },
  { limits, requireUser }: { readonly limits: ChatLimits; readonly requireUser: boolean },
  options: SubscribeOptions,
): ServiceImpl<typeof MessageService>["subscribe"] {
  return async function* subscribe(request, context) {
    const user = callingUser(context.requestHeader, requireUser);
    const marks = resumePositions(request.resumeToken);
    if (request.member !== "") {
      if (request.chats.length > 0) throw new ConnectError("set chats or member, not both", Code.InvalidArgument);
      const member = validateMember(request.member, "member", limits);
      authorizeMember(member, user);
      // The log's own clock orders its events, so one position resumes all of the member's
      // chats. The feed is named by the member id, which no chat id can equal (chat ids hold ":").
      const position = marks.get(chatMark(member));
      const starts = [{ chatId: member, position, resumed: position !== undefined }];
      yield* run(hubs.members, starts, [], toMemberResponse);
      return;
    }
    const query = validateSubscribe(request, limits);
    authorizeSubscribe(
      query.chats.map(({ chat }) => chat),
      user,
    );
    const starts = query.chats.map(({ chat, cursor }) => {
      const mark = marks.get(chatMark(chat.id));
      return { chatId: chat.id, position: mark ?? (cursor > 0n ? cursor - 1n : undefined), resumed: mark !== undefined };
    });
    yield* run(
      hubs.hub,
      starts,
      starts.map(({ chatId }) => chatId),
      toResponse,
    );

    async function* run<E extends Positioned>(
      hub: LiveHub<E>,
      starts: readonly ChatStart[],
      chats: readonly string[],
      respond: (event: LiveEvent<E>, resumeToken: string) => Response,
    ): AsyncGenerator<Response> {
      const subscriber = new Subscriber<E>(options.queueLimit);
      await hub.join(subscriber, starts);
      // The caller going away ends the subscription: nothing more to send, nothing to report.
      const leave = () => subscriber.end();
      context.signal.addEventListener("abort", leave, { once: true });
      if (context.signal.aborted) leave();
      try {
        yield { event: { case: "ready", value: { chats: [...chats] } }, resumeToken: subscriber.resumeToken() };
        for (;;) {
          if (request.endWhenCaughtUp && subscriber.backlog === 0) return;
          const next = await subscriber.next(options.heartbeatMs);
          if (next === "ended") return;
          yield next === "quiet" ? { event: { case: "heartbeat", value: {} } } : respond(next.event, next.resumeToken);
        }
      } finally {
        context.signal.removeEventListener("abort", leave);
        hub.leave(
          subscriber,
          starts.map(({ chatId }) => chatId),
        );
      }
    }
  };
}
