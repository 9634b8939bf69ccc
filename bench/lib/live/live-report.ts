import { table } from "../report.js";
import type { TargetResult } from "../targets.js";
import type { LiveOutcome } from "./live-run.js";

const number = (value: number, digits = 1) => (Number.isFinite(value) ? value.toLocaleString("en-US", { maximumFractionDigits: digits }) : "n/a");

/** The live scenario's tables: delivery, then streams and the storm. */
export function liveTables(live: LiveOutcome): string[] {
  const delivery = table(
    ["case", "sent / acked", "delivered / expected", "before ack", "p50 ms", "p90 ms", "p99 ms", "max ms", "µs CPU/event edge", "message"],
    live.fanOut.map((row) => [
      row.case,
      `${row.sent} / ${row.acknowledged}`,
      `${row.delivered} / ${row.expectedDeliveries}`,
      String(row.beforeAck),
      number(row.latencyMs.p50, 2),
      number(row.latencyMs.p90, 2),
      number(row.latencyMs.p99, 2),
      number(row.latencyMs.max, 1),
      number(row.cpuUsPerEvent.edge, 0),
      number(row.cpuUsPerEvent.message, 0),
    ]),
  );
  const streams = table(
    ["measure", "value"],
    [
      [`memory per idle stream, ${live.idle.streams.toLocaleString("en-US")} streams over ${live.idle.chats} chats: edge`, `${number(live.idle.edgeBytesPerStream / 1024, 1)} KiB`],
      ["… and message service (its Subscribe)", `${number(live.idle.messageBytesPerStream / 1024, 1)} KiB`],
      [`reconnect storm: ${live.storm.streams.toLocaleString("en-US")} streams over ${live.storm.chats} chats resuming at once: Redis stream reads`, `${live.storm.redisReads} (${number(live.storm.readsPerChat, 2)} per chat)`],
      ["… until every stream was back", `${number(live.storm.resumeMs, 0)} ms`],
    ],
  );
  const runs = live.fanOut[0]?.runs.length ?? 1;
  return [`Real-time delivery (stack variant ${live.variant}; latency from each send's acknowledgement to the event; medians of ${runs} run(s), counts summed):`, delivery, "Streams:", streams];
}

/** The real-time targets. */
export function liveTargets(live: LiveOutcome | undefined): TargetResult[] {
  if (!live) return [];
  const rows: TargetResult[] = live.fanOut.map((row) => ({
    variant: live.variant,
    target: `${row.case}: every delivery, p99 < 50 ms`,
    measured: `${row.delivered}/${row.expectedDeliveries}, p99 ${number(row.latencyMs.p99, 1)} ms`,
    pass: row.delivered === row.expectedDeliveries && row.latencyMs.p99 < 50,
  }));
  rows.push({
    variant: live.variant,
    target: `${live.idle.streams.toLocaleString("en-US")} idle streams, < 20 KB each at the edge`,
    measured: `${number(live.idle.edgeBytesPerStream / 1000, 1)} KB`,
    pass: live.idle.edgeBytesPerStream < 20_000,
  });
  rows.push({
    variant: live.variant,
    target: `reconnect storm: Redis reads ∝ chats (≤ 3 per chat), not clients`,
    measured: `${number(live.storm.readsPerChat, 2)} per chat (${live.storm.streams / live.storm.chats} streams per chat)`,
    pass: live.storm.readsPerChat <= 3,
  });
  return rows;
}
