import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import { errorText, listChats } from "../api.js";
import { withMessage, withMyReceipt, withOlderPage, withReadState } from "../conversations.js";
import type { MemberEvent, MemberStream } from "../events.js";
import type { Session } from "../session.js";
import type { ChatSummary, ReadState } from "../types.js";
import { useMemberEvents } from "./use-member-stream.js";

export interface Conversations {
  chats: ChatSummary[];
  loaded: boolean;
  error: string | null;
  hasMore: boolean;
  loadMore: () => void;
  applyReadState: (chat: string, state: ReadState) => void;
}

/** The member's chats, newest activity first, loaded once and then kept current by the stream. */
export function useConversations(session: Session, stream: MemberStream, openChat: string | null): Conversations {
  const [chats, setChats] = useState<ChatSummary[]>([]);
  const [loaded, setLoaded] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [nextCursor, setNextCursor] = useState("");
  const openChatRef = useRef(openChat);
  openChatRef.current = openChat;
  // Events that arrive while the first page loads are applied again on top of it; each update is
  // idempotent, so one the page already holds changes nothing.
  const arrivedDuringLoad = useRef<MemberEvent[] | null>(null);
  const generation = useRef(0);

  const apply = useCallback(
    (list: ChatSummary[], event: MemberEvent): ChatSummary[] => {
      if (event.kind === "message") return withMessage(list, event.message, session.member, openChatRef.current);
      if (event.kind === "read" && event.receipt.member === session.member) return withMyReceipt(list, event.receipt);
      return list;
    },
    [session.member],
  );

  const reload = useCallback(async () => {
    const current = ++generation.current;
    arrivedDuringLoad.current = [];
    try {
      const page = await listChats(session);
      if (current !== generation.current) return;
      const arrived = arrivedDuringLoad.current ?? [];
      setChats(arrived.reduce(apply, page.chats));
      setNextCursor(page.has_more ? page.next_cursor : "");
      setError(null);
    } catch (failure) {
      if (current === generation.current) setError(errorText(failure));
    } finally {
      if (current === generation.current) {
        arrivedDuringLoad.current = null;
        setLoaded(true);
      }
    }
  }, [session, apply]);

  useEffect(() => {
    void reload();
  }, [reload]);

  useMemberEvents(stream, (event) => {
    if (event.kind === "reset") return void reload();
    arrivedDuringLoad.current?.push(event);
    setChats((list) => apply(list, event));
  });

  const loadMore = useCallback(() => {
    if (nextCursor === "") return;
    const current = generation.current;
    listChats(session, nextCursor).then(
      (page) => {
        if (current !== generation.current) return;
        setChats((list) => withOlderPage(list, page.chats));
        setNextCursor(page.has_more ? page.next_cursor : "");
      },
      (failure: unknown) => setError(errorText(failure)),
    );
  }, [session, nextCursor]);

  const applyReadState = useCallback((chat: string, state: ReadState) => {
    setChats((list) => withReadState(list, chat, state));
  }, []);

  return { chats, loaded, error, hasMore: nextCursor !== "", loadMore, applyReadState };
}
