import { useLayoutEffect, useRef } from "preact/hooks";
import type { ChatHistory } from "../hooks/use-chat-history.js";
import type { Outbox } from "../hooks/use-outbox.js";
import { lastFrom } from "../history.js";
import { otherMember } from "../chat-id.js";
import { MessageBubble, OutgoingBubble } from "./MessageBubble.js";

interface Props {
  me: string;
  chat: string;
  history: ChatHistory;
  outbox: Outbox;
  theirRead: number;
}

// Closer than this to an edge counts as being there.
const edgePx = 80;

/** The chat's messages, oldest at the top; scrolling up loads older ones without a jump. */
export function MessageLog({ me, chat, history, outbox, theirRead }: Props) {
  const { messages, loaded, hasOlder, loadingOlder, loadOlder } = history;
  const log = useRef<HTMLDivElement>(null);
  const seen = useRef({ first: 0, last: 0, outgoing: 0, fromBottom: 0, atBottom: true });

  const remember = (element: HTMLDivElement) => {
    const fromBottom = element.scrollHeight - element.scrollTop;
    seen.current.fromBottom = fromBottom;
    seen.current.atBottom = fromBottom - element.clientHeight < edgePx;
  };

  useLayoutEffect(() => {
    const element = log.current;
    if (element === null) return;
    const before = seen.current;
    const first = messages[0]?.send_time ?? 0;
    const last = messages.at(-1)?.send_time ?? 0;
    const outgoing = outbox.outgoing.length;
    if (before.first !== 0 && first < before.first && last === before.last) {
      // Older messages went in above: keep what was on screen where it was.
      element.scrollTop = element.scrollHeight - before.fromBottom;
    } else if (last !== before.last || outgoing > before.outgoing) {
      const mine = outgoing > before.outgoing || messages.at(-1)?.sender === me;
      if (before.atBottom || before.last === 0 || mine) element.scrollTop = element.scrollHeight;
    }
    Object.assign(seen.current, { first, last, outgoing });
    remember(element);
    // A first page that does not fill the log cannot be scrolled up: fetch more right away.
    if (loaded && hasOlder && element.scrollHeight <= element.clientHeight + edgePx) loadOlder();
  }, [messages, outbox.outgoing.length, loaded, hasOlder, loadOlder, me]);

  const scrolled = (element: HTMLDivElement) => {
    remember(element);
    if (element.scrollTop < edgePx && hasOlder) loadOlder();
  };

  const other = otherMember(chat, me);
  const myLast = lastFrom(messages, me);
  // Their reply after my message means they read it, whatever receipts the page saw.
  const theirLast = other === me ? undefined : lastFrom(messages, other);
  const readUpTo = Math.max(theirRead, theirLast?.send_time ?? 0);

  return (
    <div
      class="log"
      role="log"
      aria-label="Messages"
      ref={log}
      tabIndex={0}
      onScroll={(event) => scrolled(event.currentTarget)}
    >
      <p class="log__edge">
        {loadingOlder ? "Loading earlier messages…" : loaded && !hasOlder ? "This is the beginning of the conversation." : ""}
      </p>
      {messages.map((message) => (
        <MessageBubble
          key={message.send_time}
          message={message}
          mine={message.sender === me}
          receipt={message === myLast ? (readUpTo >= message.send_time ? "Read" : "Sent") : null}
        />
      ))}
      {outbox.outgoing.map((item) => (
        <OutgoingBubble key={item.key} me={me} item={item} onRetry={outbox.retry} onDiscard={outbox.discard} />
      ))}
    </div>
  );
}
