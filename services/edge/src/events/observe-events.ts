import { Counter, Gauge, type Registry } from "prom-client";
import type { ChatRelays } from "./chat-relays.js";
import type { OpenStreams } from "./open-streams.js";

/**
 * Gauges of the edge's event streams and of the relays (calls to the service) serving them,
 * and a counter of how streams started; returns what counts a start.
 */
export function observeEvents(registry: Registry, streams: OpenStreams, relays: ChatRelays): (how: "relay" | "catch_up") => void {
  new Gauge({
    name: "event_streams_open",
    help: "GET /api/events streams this edge process holds (at most MAX_STREAMS)",
    registers: [registry],
    collect() {
      this.set(streams.size);
    },
  });
  new Gauge({
    name: "chat_relays_open",
    help: "Subscribe calls to the message service serving this process's streams: one per chat and user, however many streams watch it",
    registers: [registry],
    collect() {
      this.set(relays.size);
    },
  });
  const started = new Counter({
    name: "event_streams_started_total",
    help: "Event streams started, by how: joining their chats' relays at once (relay) or after a catch-up call to the message service (catch_up)",
    labelNames: ["start"],
    registers: [registry],
  });
  return (how) => started.inc({ start: how });
}
