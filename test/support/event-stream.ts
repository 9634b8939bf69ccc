import { EventSource } from "eventsource";
import { waitFor } from "../harness/wait.js";

/** One event as a browser's EventSource hands it over. */
export interface ReceivedEvent {
  readonly type: string;
  readonly id: string;
  readonly data: any;
  /** Date.now() when it arrived. */
  readonly receivedAt: number;
}

export interface EventStream {
  readonly source: EventSource;
  /** Events of the types listened for (message and reset unless told), in order. */
  readonly events: ReceivedEvent[];
  /** Times the connection opened (1 at first; each reconnect adds one). */
  opens(): number;
  /** Resolves once `count` events have arrived. */
  until(count: number, timeoutMs?: number): Promise<ReceivedEvent[]>;
  close(): void;
}

/**
 * A stream read with the `eventsource` package, which behaves as browsers do: it reconnects
 * by itself after a dropped connection, sending the last event's id as Last-Event-ID.
 * `headers` are added to every request it makes (a bearer token, say); `types` are the
 * event types collected (a member stream also has `read`).
 */
export async function openEventStream(
  url: string,
  headers: Record<string, string> = {},
  types: readonly string[] = ["message", "reset"],
): Promise<EventStream> {
  const source = new EventSource(url, {
    fetch: (input, init) => fetch(input, { ...init, headers: { ...init.headers, ...headers } }),
  });
  const events: ReceivedEvent[] = [];
  let opens = 0;
  source.addEventListener("open", () => opens++);
  for (const type of types) {
    source.addEventListener(type, (event) => events.push({ type, id: event.lastEventId, data: JSON.parse(event.data), receivedAt: Date.now() }));
  }
  await waitFor(`the event stream at ${url} to open`, () => opens > 0 || (source.readyState === EventSource.CLOSED && Promise.reject(new Error("closed"))));
  return {
    source,
    events,
    opens: () => opens,
    async until(count, timeoutMs = 10_000) {
      await waitFor(`${count} events (have ${events.length})`, () => events.length >= count, { timeoutMs });
      return events.slice(0, count);
    },
    close: () => source.close(),
  };
}
