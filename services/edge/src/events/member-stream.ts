import type { Logger } from "@chat/runtime";
import type { LimitFunction } from "p-limit";
import type { LiveClient } from "./live-client.js";
import { memberEventToSse } from "./live-events.js";
import type { SseFeed } from "./sse-feed.js";

export interface MemberStreamDeps {
  readonly live: LiveClient;
  /** Bounds the first calls being opened at once, as for chat streams (event-stream.ts). */
  readonly opening: LimitFunction;
  readonly logger: Logger;
}

/** A member stream: whose, and the id of the last event its client received ("" for none). */
export interface MemberStreamRequest {
  readonly member: string;
  readonly resumeToken: string;
}

interface Call {
  readonly signal: AbortSignal;
  readonly headers: Record<string, string> | undefined;
}

/**
 * Opens one member's event stream: a Subscribe call of its own (member form), not a relay.
 * A member's events are their own log, ordered by its clock, so no other stream could share
 * the call, and its resume tokens go to the client as they are. It resolves once the service
 * has answered `ready`, so every error (bad member, bad resume id, another user) comes before
 * any byte of the stream. If the service drops the call, live-client.ts resumes it after the
 * last event received; if it stays out of reach, the stream ends and its client resumes.
 */
export async function openMemberStream(request: MemberStreamRequest, call: Call, deps: MemberStreamDeps): Promise<SseFeed> {
  const own = new AbortController();
  const stop = () => own.abort();
  call.signal.addEventListener("abort", stop, { once: true });
  const close = () => {
    call.signal.removeEventListener("abort", stop);
    own.abort();
  };
  const events = deps.live
    .subscribe({ member: request.member, resumeToken: request.resumeToken }, { signal: own.signal, headers: call.headers })
    [Symbol.asyncIterator]();
  try {
    // The call starts with the first next(): bounded, like every stream's first call.
    const first = await deps.opening(() => events.next());
    if (first.done || first.value.event.case !== "ready") throw new Error("the subscription ended before it was ready");
  } catch (error) {
    close();
    throw error;
  }
  return {
    async next() {
      try {
        for (let next = await events.next(); !next.done; next = await events.next()) {
          const event = memberEventToSse(next.value);
          if (event) return event;
        }
      } catch (error) {
        if (!own.signal.aborted) deps.logger.warn({ err: error, member: request.member }, "member event stream ended: the message service could not be reached");
      }
      return undefined;
    },
    end: close,
    close,
  };
}
