import { otherMember } from "../chat-id.js";
import type { MemberStream } from "../events.js";
import { useChatHistory } from "../hooks/use-chat-history.js";
import { useDocumentVisible } from "../hooks/use-document-visible.js";
import { useMarkRead } from "../hooks/use-mark-read.js";
import { useOutbox } from "../hooks/use-outbox.js";
import type { Session } from "../session.js";
import type { ReadState } from "../types.js";
import { Composer } from "./Composer.js";
import { MessageLog } from "./MessageLog.js";

interface Props {
  session: Session;
  stream: MemberStream;
  chat: string;
  /** The other member's read cursor, as far as the page knows it. */
  theirRead: number;
  onReadState: (chat: string, state: ReadState) => void;
  onBack: () => void;
}

/** One open chat: its history, live messages, what is being sent, and the composer. */
export function ChatView({ session, stream, chat, theirRead, onReadState, onBack }: Props) {
  const history = useChatHistory(session, stream, chat);
  const outbox = useOutbox(session, chat, history.addStored);
  const visible = useDocumentVisible();
  useMarkRead(session, chat, history.messages, visible, onReadState);
  const other = otherMember(chat, session.member);

  return (
    <section class="chat" aria-labelledby="chat-title">
      <header class="chat__header">
        <button class="button button--quiet chat__back" type="button" onClick={onBack}>
          <span class="chat__back-arrow" aria-hidden="true">
            ‹
          </span>
          Back
        </button>
        <h2 class="chat__title" id="chat-title">
          {other}
        </h2>
      </header>
      {history.error !== null && (
        <div class="alert chat__alert" role="alert">
          <span>{history.error}</span>
          <button class="button button--quiet" type="button" onClick={history.reload}>
            Try again
          </button>
        </div>
      )}
      <MessageLog me={session.member} chat={chat} history={history} outbox={outbox} theirRead={theirRead} />
      <Composer onSend={outbox.send} />
    </section>
  );
}
