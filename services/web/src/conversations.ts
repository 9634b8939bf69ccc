// The member's chat list, kept current from the member stream without asking the server again.
import type { ChatSummary, Message, ReadReceipt, ReadState } from "./types.js";

/** The server counts unread messages exactly up to this, then says "capped". */
const unreadCountLimit = 100;

/** The badge text: "3 unread", or "100+ unread" past what the server counts. */
export function unreadLabel(chat: ReadState): string {
  return chat.unread_capped ? `${unreadCountLimit}+ unread` : `${chat.unread} unread`;
}

/**
 * A new message moves its chat to the top. The other member's message is unread unless the chat
 * is open (the open chat marks it read); one's own message moves one's read cursor to it.
 */
export function withMessage(chats: ChatSummary[], message: Message, me: string, openChat: string | null): ChatSummary[] {
  const current = chats.find((chat) => chat.chat === message.chat);
  const last = current?.last_message;
  if (last && last.send_time >= message.send_time) return chats;
  const rest = chats.filter((chat) => chat.chat !== message.chat);
  const base: ChatSummary = current ?? {
    chat: message.chat,
    last_message: null,
    read_cursor: 0,
    unread: 0,
    unread_capped: false,
    other_read_cursor: 0,
  };
  if (message.sender === me) {
    return [{ ...base, last_message: message, read_cursor: message.send_time, unread: 0, unread_capped: false }, ...rest];
  }
  const unseen = message.chat !== openChat;
  const count = base.unread + (unseen ? 1 : 0);
  const capped = base.unread_capped || count > unreadCountLimit;
  const unread = Math.min(count, unreadCountLimit);
  return [{ ...base, last_message: message, unread, unread_capped: capped }, ...rest];
}

/** My read cursor moved (here or in another tab): what it covers is no longer unread. */
export function withMyReceipt(chats: ChatSummary[], receipt: ReadReceipt): ChatSummary[] {
  return chats.map((chat) => {
    if (chat.chat !== receipt.chat || receipt.read_cursor <= chat.read_cursor) return chat;
    const coversLast = (chat.last_message?.send_time ?? 0) <= receipt.read_cursor;
    return coversLast
      ? { ...chat, read_cursor: receipt.read_cursor, unread: 0, unread_capped: false }
      : { ...chat, read_cursor: receipt.read_cursor };
  });
}

/** The server's answer to a mark-read: where my cursor stands and what is still unread. */
export function withReadState(chats: ChatSummary[], chatId: string, state: ReadState): ChatSummary[] {
  return chats.map((chat) => {
    if (chat.chat !== chatId || state.read_cursor < chat.read_cursor) return chat;
    return { ...chat, ...state };
  });
}

/** A further page appended below the chats already listed; a chat never shows twice. */
export function withOlderPage(chats: ChatSummary[], page: ChatSummary[]): ChatSummary[] {
  const listed = new Set(chats.map((chat) => chat.chat));
  return [...chats, ...page.filter((chat) => !listed.has(chat.chat))];
}
