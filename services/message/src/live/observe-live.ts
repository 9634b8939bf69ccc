import { Gauge, type Registry } from "prom-client";
import type { MemberEvent } from "../store/members.js";
import type { LiveHub } from "./live-hub.js";

/**
 * Gauges of the replica's live delivery: open subscriptions and the feeds serving them, of
 * chats and of members' logs.
 */
export function observeLive(registry: Registry, hub: LiveHub, members: LiveHub<MemberEvent>): void {
  new Gauge({
    name: "subscriptions_open",
    help: "Subscribe calls open on this replica",
    registers: [registry],
    collect() {
      this.set(hub.subscribers + members.subscribers);
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
  new Gauge({
    name: "member_feeds_open",
    help: "Members whose event logs this replica watches in Redis (one wake-up subscription and one reader each), however many member subscriptions share them",
    registers: [registry],
    collect() {
      this.set(members.chats);
    },
  });
}
