import { otherMember } from "../chat-id.js";
import { unreadLabel } from "../conversations.js";
import type { Conversations } from "../hooks/use-conversations.js";
import { formatSendTime, sendTimeDate } from "../time.js";
import type { ChatSummary } from "../types.js";

interface Props {
  me: string;
  conversations: Conversations;
  openChat: string | null;
  onOpen: (chat: string) => void;
}

/** The member's chats, most recent first, each with its last message and what is unread. */
export function ConversationList({ me, conversations, openChat, onOpen }: Props) {
  const { chats, loaded, error, hasMore, loadMore } = conversations;
  return (
    <div class="conversations">
      {error !== null && (
        <p class="alert" role="alert">
          {error}
        </p>
      )}
      <ul class="conversations__list" aria-label="Conversations">
        {chats.map((chat) => (
          <ConversationItem key={chat.chat} me={me} chat={chat} open={chat.chat === openChat} onOpen={onOpen} />
        ))}
      </ul>
      {loaded && chats.length === 0 && error === null && (
        <p class="conversations__empty">No conversations yet. Start one above.</p>
      )}
      {hasMore && (
        <button class="button button--quiet conversations__more" type="button" onClick={loadMore}>
          Show older conversations
        </button>
      )}
    </div>
  );
}

interface ItemProps {
  me: string;
  chat: ChatSummary;
  open: boolean;
  onOpen: (chat: string) => void;
}

function ConversationItem({ me, chat, open, onOpen }: ItemProps) {
  const other = otherMember(chat.chat, me);
  const last = chat.last_message;
  const unread = chat.unread > 0 || chat.unread_capped;
  const detailsId = `conversation-${encodeURIComponent(chat.chat)}`;
  return (
    <li class={open ? "conversation conversation--open" : "conversation"}>
      {/* The button covers the whole row (CSS); its name is the person, the rest describes it. */}
      <button
        class="conversation__open"
        type="button"
        aria-current={open ? "true" : undefined}
        aria-describedby={detailsId}
        onClick={() => onOpen(chat.chat)}
      >
        {other}
      </button>
      <div class="conversation__details" id={detailsId}>
        {last !== null && (
          <p class="conversation__last">
            {last.sender === me && <span class="conversation__you">You: </span>}
            {last.text}
          </p>
        )}
        {unread && <span class="badge">{unreadLabel(chat)}</span>}
      </div>
      {last !== null && (
        <time class="conversation__time" dateTime={sendTimeDate(last.send_time).toISOString()}>
          {formatSendTime(last.send_time)}
        </time>
      )}
    </li>
  );
}
