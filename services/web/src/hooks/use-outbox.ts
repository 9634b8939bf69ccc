import { useCallback, useState } from "preact/hooks";
import { errorText, sendMessage } from "../api.js";
import { newClientMessageId } from "../client-id.js";
import type { Session } from "../session.js";
import type { Message } from "../types.js";

/** A message on its way, or one that failed and waits for a retry with the same key. */
export interface Outgoing {
  /** The client id, sent as Idempotency-Key on every attempt. */
  key: string;
  text: string;
  error: string | null;
}

export interface Outbox {
  outgoing: Outgoing[];
  send: (text: string) => void;
  retry: (key: string) => void;
  discard: (key: string) => void;
}

/** Sends the open chat's messages; a retry after any failure can never store one twice. */
export function useOutbox(session: Session, chat: string, onStored: (message: Message) => void): Outbox {
  const [outgoing, setOutgoing] = useState<Outgoing[]>([]);

  const attempt = useCallback(
    (item: Outgoing) => {
      sendMessage(session, chat, item.text, item.key).then(
        (message) => {
          onStored(message);
          setOutgoing((items) => items.filter((other) => other.key !== item.key));
        },
        (failure: unknown) => {
          const error = errorText(failure);
          setOutgoing((items) => items.map((other) => (other.key === item.key ? { ...other, error } : other)));
        },
      );
    },
    [session, chat, onStored],
  );

  const send = useCallback(
    (text: string) => {
      const item: Outgoing = { key: newClientMessageId(), text, error: null };
      setOutgoing((items) => [...items, item]);
      attempt(item);
    },
    [attempt],
  );

  const retry = useCallback(
    (key: string) => {
      const item = outgoing.find((other) => other.key === key);
      if (item === undefined || item.error === null) return;
      setOutgoing((items) => items.map((other) => (other.key === key ? { ...other, error: null } : other)));
      attempt(item);
    },
    [outgoing, attempt],
  );

  const discard = useCallback((key: string) => {
    setOutgoing((items) => items.filter((other) => other.key !== key));
  }, []);

  return { outgoing, send, retry, discard };
}
