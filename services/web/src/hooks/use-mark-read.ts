import { useEffect, useRef } from "preact/hooks";
import { markRead } from "../api.js";
import type { Session } from "../session.js";
import type { Message, ReadState } from "../types.js";

/**
 * Marks the open chat read up to its newest message whenever that is the other member's and
 * the tab is visible. One's own messages need no mark: sending moves one's read cursor.
 */
export function useMarkRead(
  session: Session,
  chat: string,
  messages: Message[],
  visible: boolean,
  onReadState: (chat: string, state: ReadState) => void,
): void {
  const marked = useRef(0);
  const newest = messages.at(-1);
  useEffect(() => {
    if (!visible || newest === undefined || newest.send_time <= marked.current) return;
    marked.current = newest.send_time;
    if (newest.sender === session.member) return;
    markRead(session, chat, newest.send_time).then(
      (state) => onReadState(chat, state),
      (failure: unknown) => console.warn(`could not mark ${chat} read`, failure),
    );
  }, [session, chat, newest, visible, onReadState]);
}
