import { Gauge, type Registry } from "prom-client";
import type { LiveHub } from "./live-hub.js";

/** Gauges of the replica's live delivery: open subscriptions and the chat feeds serving them. */
export function observeLive(registry: Registry, hub: LiveHub): void {
  new Gauge({
    name: "subscriptions_open",
    help: "Subscribe calls open on this replica",
    registers: [registry],
    collect() {
      this.set(hub.subscribers);
    },
  });
  new Gauge({
    name: "chat_feeds_open",
    help: "Chats this replica watches in Redis (one wake-up subscription and one reader each), however many subscriptions share them",
    registers: [registry],
    collect() {
      this.set(hub.chats);
    },
  });
}
