import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import { errorText, pullNewestFirst } from "../api.js";
import type { MemberStream } from "../events.js";
import { mergeMessages } from "../history.js";
import type { Session } from "../session.js";
import type { Message } from "../types.js";
import { useMemberEvents } from "./use-member-stream.js";

const pageSize = 50;

export interface ChatHistory {
  /** Oldest first, each message once. */
  messages: Message[];
  loaded: boolean;
  hasOlder: boolean;
  loadingOlder: boolean;
  error: string | null;
  loadOlder: () => void;
  reload: () => void;
  /** A message this page sent, as the server stored it. */
  addStored: (message: Message) => void;
}

interface Older {
  /** next_cursor of the last reverse page: the newest message of the next older page. */
  cursor: number;
  hasMore: boolean;
}

/** The open chat's messages: the newest page, older pages on demand, new ones live. */
export function useChatHistory(session: Session, stream: MemberStream, chat: string): ChatHistory {
  const [messages, setMessages] = useState<Message[]>([]);
  const [loaded, setLoaded] = useState(false);
  const [older, setOlder] = useState<Older>({ cursor: 0, hasMore: false });
  const [loadingOlder, setLoadingOlder] = useState(false);
  const [error, setError] = useState<string | null>(null);
  // A reload replaces what is shown (it may follow a gap), keeping what arrived live meanwhile.
  const arrivedDuringLoad = useRef<Message[] | null>(null);
  const generation = useRef(0);
  const olderInFlight = useRef(false);

  const reload = useCallback(() => {
    const current = ++generation.current;
    arrivedDuringLoad.current = [];
    olderInFlight.current = false;
    setLoadingOlder(false);
    pullNewestFirst(session, chat, 0, pageSize)
      .then((page) => {
        if (current !== generation.current) return;
        setMessages(mergeMessages(page.messages, arrivedDuringLoad.current ?? []));
        setOlder({ cursor: page.next_cursor, hasMore: page.has_more });
        setError(null);
      })
      .catch((failure: unknown) => {
        if (current === generation.current) setError(errorText(failure));
      })
      .finally(() => {
        if (current !== generation.current) return;
        arrivedDuringLoad.current = null;
        setLoaded(true);
      });
  }, [session, chat]);

  useEffect(reload, [reload]);

  const addStored = useCallback((message: Message) => {
    arrivedDuringLoad.current?.push(message);
    setMessages((known) => mergeMessages(known, [message]));
  }, []);

  useMemberEvents(stream, (event) => {
    if (event.kind === "reset") return reload();
    if (event.kind === "message" && event.message.chat === chat) addStored(event.message);
  });

  const loadOlder = useCallback(() => {
    if (!older.hasMore || olderInFlight.current || arrivedDuringLoad.current !== null) return;
    const current = generation.current;
    olderInFlight.current = true;
    setLoadingOlder(true);
    pullNewestFirst(session, chat, older.cursor, pageSize)
      .then((page) => {
        if (current !== generation.current) return;
        setMessages((known) => mergeMessages(known, page.messages));
        setOlder({ cursor: page.next_cursor, hasMore: page.has_more });
      })
      .catch((failure: unknown) => {
        if (current === generation.current) setError(errorText(failure));
      })
      .finally(() => {
        if (current !== generation.current) return;
        olderInFlight.current = false;
        setLoadingOlder(false);
      });
  }, [session, chat, older]);

  return { messages, loaded, hasOlder: older.hasMore, loadingOlder, error, loadOlder, reload, addStored };
}
