import type { Client } from "@connectrpc/connect";
import type { MessageService, SubscribeRequest, SubscribeResponse } from "@chat/proto";
import type { MessageInitShape } from "@bufbuild/protobuf";
import type { SubscribeRequestSchema } from "@chat/proto";

/** What a test sees of one subscription's events (heartbeats kept apart). */
export interface LiveStream {
  /** The `ready` event's resume token. */
  readonly readyToken: string;
  /** Message and reset events received so far, in order. */
  readonly events: SubscribeResponse[];
  /** Heartbeats received so far. */
  heartbeats: number;
  /** The resume token of the last event received. */
  lastToken(): string;
  /** Waits until `count` message or reset events have arrived in all (fails after `timeoutMs`). */
  until(count: number, timeoutMs?: number): Promise<SubscribeResponse[]>;
  /** Waits until `predicate` holds for what arrived. */
  untilHolds(predicate: (events: SubscribeResponse[]) => boolean, what: string, timeoutMs?: number): Promise<void>;
  close(): void;
}

/** Opens a subscription, waits for its `ready` event, and keeps reading in the background. */
export async function subscribe(
  client: Client<typeof MessageService>,
  request: MessageInitShape<typeof SubscribeRequestSchema> | SubscribeRequest,
): Promise<LiveStream> {
  const controller = new AbortController();
  const iterator = client.subscribe(request, { signal: controller.signal })[Symbol.asyncIterator]();
  const first = await iterator.next();
  if (first.done || first.value.event.case !== "ready") throw new Error(`expected a ready event, got ${JSON.stringify(first.value)}`);
  const events: SubscribeResponse[] = [];
  let failure: unknown;
  let lastToken = first.value.resumeToken;
  const stream: LiveStream = {
    readyToken: first.value.resumeToken,
    events,
    heartbeats: 0,
    lastToken: () => lastToken,
    async until(count, timeoutMs = 10_000) {
      await stream.untilHolds((seen) => seen.length >= count, `${count} events`, timeoutMs);
      return events.slice(0, count);
    },
    async untilHolds(predicate, what, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (!predicate(events)) {
        if (failure !== undefined) throw failure;
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; got ${events.length} events`);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    },
    close: () => controller.abort(),
  };
  void (async () => {
    try {
      for (let next = await iterator.next(); !next.done; next = await iterator.next()) {
        if (next.value.event.case === "heartbeat") {
          stream.heartbeats++;
          continue;
        }
        events.push(next.value);
        lastToken = next.value.resumeToken;
      }
    } catch (error) {
      if (!controller.signal.aborted) failure = error;
    }
  })();
  return stream;
}

/** The texts of the message events, in order. */
export function textsOf(events: readonly SubscribeResponse[]): string[] {
  return events.flatMap((response) => (response.event.case === "message" ? [response.event.value.text] : []));
}
