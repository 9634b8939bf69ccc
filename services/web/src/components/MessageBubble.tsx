import type { Outgoing } from "../hooks/use-outbox.js";
import { formatSendTime, sendTimeDate } from "../time.js";
import type { Message } from "../types.js";

interface Props {
  message: Message;
  mine: boolean;
  /** Under my newest message: whether the other member has read it. */
  receipt: "Sent" | "Read" | null;
}

/** One stored message: who wrote it, the text (always as text), when. */
export function MessageBubble({ message, mine, receipt }: Props) {
  return (
    <div class={mine ? "message message--mine" : "message"}>
      <div class="message__meta">
        <span class="message__sender">{message.sender}</span>
        <time class="message__time" dateTime={sendTimeDate(message.send_time).toISOString()}>
          {formatSendTime(message.send_time)}
        </time>
      </div>
      <p class="message__text">{message.text}</p>
      {receipt !== null && <p class={`message__receipt message__receipt--${receipt.toLowerCase()}`}>{receipt}</p>}
    </div>
  );
}

interface OutgoingProps {
  me: string;
  item: Outgoing;
  onRetry: (key: string) => void;
  onDiscard: (key: string) => void;
}

/** A message not stored yet: on its way, or failed with the reason and a retry. */
export function OutgoingBubble({ me, item, onRetry, onDiscard }: OutgoingProps) {
  const failed = item.error !== null;
  return (
    <div class={failed ? "message message--mine message--failed" : "message message--mine message--pending"} aria-busy={!failed}>
      <div class="message__meta">
        <span class="message__sender">{me}</span>
        <span class="message__time">{failed ? "Not delivered" : "Sending…"}</span>
      </div>
      <p class="message__text">{item.text}</p>
      {failed && (
        <div class="message__failure">
          <p class="message__error" role="alert">
            {item.error}
          </p>
          <button class="button button--small" type="button" onClick={() => onRetry(item.key)}>
            Retry
          </button>
          <button class="button button--small button--quiet" type="button" onClick={() => onDiscard(item.key)}>
            Discard
          </button>
        </div>
      )}
    </div>
  );
}
