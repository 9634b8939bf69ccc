import type { RunRecord } from "./execute.js";
import type { MemoryRow } from "./memory.js";
import type { Spread } from "./stats.js";
import { pullScaling, type CaseSummary } from "./summary.js";
import type { TargetResult } from "./targets.js";

/** A Markdown table with padded columns, so it reads in a terminal and pastes into an issue. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] ?? "").length)));
  const line = (cells: readonly string[]) =>
    `| ${cells.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join(" | ")} |`;
  return [line(header), line(widths.map((width) => "-".repeat(width))), ...rows.map(line)].join("\n");
}

function number(value: number, digits: number): string {
  if (!Number.isFinite(value)) return "—";
  return value.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** Latency in ms: two decimals below 10 ms, one above. */
function ms(value: number): string {
  return number(value, Math.abs(value) < 10 ? 2 : 1);
}

function withRange(value: Spread, format: (n: number) => string, runs: number): string {
  if (runs < 2) return format(value.median);
  return `${format(value.median)} (${format(value.min)}–${format(value.max)})`;
}

export function mainTable(summaries: readonly CaseSummary[]): string {
  const cpuColumns = ["edge", "message", "redis", "baseline", "loadgen"];
  const rows = summaries.map((summary) => [
    summary.case,
    summary.variant,
    withRange(summary.throughput, (n) => number(n, 0), summary.runs),
    ms(summary.p50Ms.median),
    ms(summary.p90Ms.median),
    withRange(summary.p99Ms, ms, summary.runs),
    ...cpuColumns.map((role) => {
      const cpu = summary.cpuSeconds[role];
      return cpu ? number(cpu.median, 2) : "—";
    }),
    summary.ratioToBaseline ? withRange(summary.ratioToBaseline, (n) => `${number(n, 2)}×`, summary.runs) : "—",
    String(summary.errors + summary.non2xx),
  ]);
  return table(
    [
      "scenario",
      "variant",
      "req/s median (min–max)",
      "p50 ms",
      "p90 ms",
      "p99 ms (min–max)",
      "CPU s edge",
      "CPU s msg",
      "CPU s redis",
      "CPU s base",
      "CPU s loadgen",
      "× baseline",
      "errors",
    ],
    rows,
  );
}

export function cpuPerRequestTable(summaries: readonly CaseSummary[]): string {
  const roles = ["edge", "message", "redis", "baseline", "server", "loadgen"];
  return table(
    ["scenario", "variant", ...roles.map((role) => `µs/req ${role}`)],
    summaries.map((summary) => [
      summary.case,
      summary.variant,
      ...roles.map((role) => {
        const cpu = summary.cpuMicrosPerRequest[role];
        return cpu ? number(cpu.median, 0) : "—";
      }),
    ]),
  );
}

export function scalingTable(records: readonly RunRecord[], variants: readonly string[]): string | undefined {
  const rows = variants.flatMap((variant) => {
    const scaling = pullScaling(records, variant);
    if (!scaling) return [];
    return [[variant, withRange(scaling.time, (n) => `${number(n, 2)}×`, 2), withRange(scaling.p50, (n) => `${number(n, 2)}×`, 2)]];
  });
  if (rows.length === 0) return undefined;
  return table(["variant", "time(large)/time(small), time = 1/req/s", "p50(large)/p50(small)"], rows);
}

export function targetsTable(targets: readonly TargetResult[]): string {
  return table(
    ["variant", "target", "measured (medians)", "result"],
    targets.map((target) => [
      target.variant,
      target.target,
      target.measured,
      target.pass === undefined ? "n/a" : target.pass ? "PASS" : "FAIL",
    ]),
  );
}

export function memoryTable(rows: readonly MemoryRow[]): string {
  return table(
    ["layout", "chats × messages", "B/msg (used_memory Δ, all keys)", "B/chat", "B/msg (MEMORY USAGE)"],
    rows.map((row) => [
      row.layout,
      `${row.chats.toLocaleString("en-US")} × ${row.perChat.toLocaleString("en-US")}`,
      number(row.usedMemoryBytesPerMessage, 1),
      number(row.usedMemoryBytesPerChat, 0),
      number(row.memoryUsageBytesPerMessage, 1),
    ]),
  );
}
