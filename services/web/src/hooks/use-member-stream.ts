import { useEffect, useRef, useState } from "preact/hooks";
import { MemberStream, type MemberEvent } from "../events.js";
import type { Session } from "../session.js";

/** The member's event stream for as long as the calling component is shown, and whether it is live. */
export function useMemberStream(session: Session): { stream: MemberStream; live: boolean } {
  const [stream] = useState(() => new MemberStream(session));
  const [live, setLive] = useState(false);
  useEffect(() => {
    const unsubscribe = stream.subscribe((event) => {
      if (event.kind === "live") setLive(event.live);
    });
    stream.start();
    return () => {
      unsubscribe();
      stream.stop();
    };
  }, [stream]);
  return { stream, live };
}

/** Calls the latest `listener` for every event of `stream` while the component is shown. */
export function useMemberEvents(stream: MemberStream, listener: (event: MemberEvent) => void): void {
  const latest = useRef(listener);
  latest.current = listener;
  useEffect(() => stream.subscribe((event) => latest.current(event)), [stream]);
}
