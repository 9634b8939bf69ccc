// The shapes the REST API answers (docs/api.md), as this page uses them.

/** One stored message; `send_time` (microseconds since the epoch) is its id within the chat. */
export interface Message {
  chat: string;
  text: string;
  sender: string;
  send_time: number;
}

/** One page of `GET /api/pull`. */
export interface PullPage {
  messages: Message[];
  has_more: boolean;
  next_cursor: number;
}

/** Where a member's read cursor stands in one chat, and what is still unread. */
export interface ReadState {
  read_cursor: number;
  unread: number;
  unread_capped: boolean;
}

/** One row of `GET /api/chats`. */
export interface ChatSummary extends ReadState {
  chat: string;
  last_message: Message | null;
  /** send_time of the newest message the other member has read (their receipt), 0 for none. */
  other_read_cursor: number;
}

/** One page of `GET /api/chats`; `next_cursor` is opaque. */
export interface ChatsPage {
  chats: ChatSummary[];
  has_more: boolean;
  next_cursor: string;
}

/** A `read` event: `member` moved their read cursor in `chat`. */
export interface ReadReceipt {
  chat: string;
  member: string;
  read_cursor: number;
}

/** How the edge authenticates, from `GET /api/client-config`. */
export type AuthMode = "none" | "jwt";
