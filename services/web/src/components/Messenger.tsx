import { useState } from "preact/hooks";
import { canonicalChatId } from "../chat-id.js";
import { useConversations } from "../hooks/use-conversations.js";
import { useMemberStream } from "../hooks/use-member-stream.js";
import { useReadReceipts } from "../hooks/use-read-receipts.js";
import type { Session } from "../session.js";
import { ChatView } from "./ChatView.js";
import { ConversationList } from "./ConversationList.js";
import { StartChat } from "./StartChat.js";
import { TopBar } from "./TopBar.js";

interface Props {
  session: Session;
  onSignOut: () => void;
}

/** The signed-in page: conversations on the left, the open chat on the right (one at a time on a phone). */
export function Messenger({ session, onSignOut }: Props) {
  const { stream, live } = useMemberStream(session);
  const [openChat, setOpenChat] = useState<string | null>(null);
  const conversations = useConversations(session, stream, openChat);
  const theirReads = useReadReceipts(stream, session.member);

  return (
    <div class={openChat === null ? "messenger" : "messenger messenger--chat-open"}>
      <TopBar member={session.member} live={live} onSignOut={onSignOut} />
      <aside class="sidebar">
        <StartChat onOpen={(other) => setOpenChat(canonicalChatId(session.member, other))} />
        <ConversationList me={session.member} conversations={conversations} openChat={openChat} onOpen={setOpenChat} />
      </aside>
      <main class="chat-pane">
        {openChat === null ? (
          <div class="chat-pane__empty">
            <p>Choose a conversation, or start one with someone’s id.</p>
          </div>
        ) : (
          <ChatView
            key={openChat}
            session={session}
            stream={stream}
            chat={openChat}
            theirRead={Math.max(theirReads.get(openChat) ?? 0, conversations.chats.find((row) => row.chat === openChat)?.other_read_cursor ?? 0)}
            onReadState={conversations.applyReadState}
            onBack={() => setOpenChat(null)}
          />
        )}
      </main>
    </div>
  );
}
