import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import type { MessageService } from "@chat/proto";
import { authorizeMember, callingUser } from "../chat/access.js";
import { unreadCap, validateMarkRead, type ChatLimits } from "../chat/rules.js";
import { beforeDeadline } from "../deadline.js";
import { otherMember } from "../store/members.js";
import type { MessageStore } from "../store/store.js";

/**
 * MarkRead: the cursor must be the send_time of one of the chat's retained messages, which
 * refuses cursors of other chats, in other units (seconds), or past the newest message. The
 * member's cursor then moves forward (never back), and the other member's log gets the
 * receipt. Both writes repeat safely, so a failed call may simply be retried.
 */
export function markReadMethod(
  store: MessageStore,
  { limits, requireUser }: { readonly limits: ChatLimits; readonly requireUser: boolean },
): ServiceImpl<typeof MessageService>["markRead"] {
  return async (request, context) => {
    const command = validateMarkRead(request, limits);
    authorizeMember(command.member, callingUser(context.requestHeader, requireUser));
    const { chat, member, cursor } = command;
    const at = await beforeDeadline(context.signal, store.page(chat.id, { cursor, limit: 1, reverse: false }));
    if (at.messages[0]?.sendTime !== cursor) {
      throw new ConnectError(
        at.historyStart === 0n
          ? `chat "${chat.id}" holds no messages to mark read`
          : `cursor ${cursor} is not the send_time of a message in chat "${chat.id}"; pass the send_time of the newest message read`,
        Code.InvalidArgument,
      );
    }
    const readCursor = await beforeDeadline(context.signal, store.members.read(member, chat.id, member, cursor));
    const other = otherMember(chat.id, member);
    const [summary] = await beforeDeadline(
      context.signal,
      Promise.all([
        store.summary(chat.id, member, readCursor, unreadCap),
        other === member ? Promise.resolve(0n) : store.members.read(other, chat.id, member, readCursor),
      ]),
    );
    return { readCursor, unread: summary.unread, unreadCapped: summary.capped };
  };
}
