import type { MessageInitShape } from "@bufbuild/protobuf";
import type { ServiceImpl } from "@connectrpc/connect";
import type { ChatSummarySchema, MessageService } from "@chat/proto";
import { authorizeMember, callingUser } from "../chat/access.js";
import { encodeListCursor, unreadCap, validateListChats, type ChatLimits } from "../chat/rules.js";
import { beforeDeadline } from "../deadline.js";
import type { MessageStore } from "../store/store.js";

/**
 * ListChats: one read of the member's list (their slot), then one summary per row (each in
 * its chat's slot, all at once): the last message and the unread count, from the chat's
 * messages themselves, so they always agree with what a pull returns. A chat that no longer
 * holds any message (all past retention, or lost) is left out.
 */
export function listChatsMethod(
  store: MessageStore,
  { limits, requireUser }: { readonly limits: ChatLimits; readonly requireUser: boolean },
): ServiceImpl<typeof MessageService>["listChats"] {
  return async (request, context) => {
    const query = validateListChats(request, limits);
    authorizeMember(query.member, callingUser(context.requestHeader, requireUser));
    const page = await beforeDeadline(context.signal, store.members.list(query.member, query.from, query.limit));
    const summaries = await beforeDeadline(
      context.signal,
      Promise.all(page.chats.map((row) => store.summary(row.chatId, query.member, row.readCursor, unreadCap))),
    );
    const chats: MessageInitShape<typeof ChatSummarySchema>[] = [];
    page.chats.forEach((row, index) => {
      const { last, unread, capped } = summaries[index]!;
      if (!last) return;
      chats.push({
        chat: row.chatId,
        lastMessage: { chat: row.chatId, sendTime: last.sendTime, sender: last.sender, text: last.text },
        readCursor: row.readCursor,
        otherReadCursor: row.otherReadCursor,
        unread,
        unreadCapped: capped,
      });
    });
    const lastRow = page.chats.at(-1);
    return { chats, hasMore: page.hasMore, nextCursor: page.hasMore && lastRow ? encodeListCursor(lastRow) : "" };
  };
}
