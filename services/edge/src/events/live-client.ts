import { setTimeout as sleep } from "node:timers/promises";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, type Interceptor } from "@connectrpc/connect";
import { createConnectTransport, Http2SessionManager } from "@connectrpc/connect-node";
import { MessageService, type SubscribeRequestSchema, type SubscribeResponse } from "@chat/proto";

export interface LiveClientOptions {
  readonly baseUrl: string;
  readonly interceptors: readonly Interceptor[];
  /** How long the client keeps trying to resume a subscription the service dropped. */
  readonly resumeWithinMs: number;
}

export interface SubscribeOptions {
  readonly signal: AbortSignal;
  readonly headers?: Record<string, string> | undefined;
}

/** Subscriptions to the message service. */
export interface LiveClient {
  /**
   * The events of one subscription: first `ready`, then messages and resets. When the
   * service ends the stream (a replica shutting down) or the connection fails, the client
   * resumes it with the last resume token on whichever replica answers, without a second
   * `ready`, for up to `resumeWithinMs` (then Unavailable). Errors the service answers
   * (bad input, access) are thrown as they are. With end_when_caught_up, the events end
   * when the service ends the call.
   */
  subscribe(request: MessageInitShape<typeof SubscribeRequestSchema>, options: SubscribeOptions): AsyncIterable<SubscribeResponse>;
  close(): void;
}

// The service could not be reached or went away: another attempt may reach another replica.
const resumable = new Set([Code.Unavailable, Code.DeadlineExceeded, Code.Canceled, Code.Unknown, Code.Internal, Code.Aborted]);

/**
 * Subscriptions over one HTTP/2 connection to the message service: every stream of this
 * edge process is multiplexed on it, so the connections to the service do not grow with the
 * number of subscribers. (A Kubernetes Service then pins one edge process's streams to one
 * replica; when that replica goes, they resume on the next connection's.)
 */
export function createLiveClient(options: LiveClientOptions): LiveClient {
  const sessionManager = new Http2SessionManager(options.baseUrl, { pingIntervalMs: 15_000, pingTimeoutMs: 10_000 });
  const client = createClient(
    MessageService,
    createConnectTransport({
      baseUrl: options.baseUrl,
      httpVersion: "2",
      useBinaryFormat: true,
      sessionManager,
      interceptors: [...options.interceptors],
    }),
  );

  async function* subscribe(request: MessageInitShape<typeof SubscribeRequestSchema>, call: SubscribeOptions) {
    let resumeToken = request.resumeToken ?? "";
    let ready = false;
    let failingSince: number | undefined;
    let pauses = 0;
    for (;;) {
      try {
        for await (const response of client.subscribe({ ...request, resumeToken }, { signal: call.signal, headers: call.headers })) {
          failingSince = undefined;
          pauses = 0;
          if (response.event.case === "ready" && ready) continue;
          ready = true;
          if (response.resumeToken !== "") resumeToken = response.resumeToken;
          yield response;
        }
        // A catch-up call ends when it has caught up (or its replica is leaving: the caller
        // compares positions, and calls again if need be).
        if (request.endWhenCaughtUp) return;
      } catch (error) {
        if (call.signal.aborted) return;
        const cause = ConnectError.from(error);
        if (!resumable.has(cause.code)) throw cause;
        failingSince ??= Date.now();
        if (Date.now() - failingSince > options.resumeWithinMs) {
          throw new ConnectError(`the message service could not be reached: ${cause.rawMessage}`, Code.Unavailable, undefined, undefined, cause);
        }
      }
      if (call.signal.aborted) return;
      // Ended by the service, or failed: again after a short, growing, jittered pause.
      await sleep(Math.random() * Math.min(1_000, 50 * 2 ** pauses++), undefined, { signal: call.signal }).catch(() => {});
    }
  }

  return { subscribe, close: () => sessionManager.abort() };
}
