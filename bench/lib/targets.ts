import type { RunRecord } from "./execute.js";
import { edgeSendLayout, entryAloneLayout, type MemoryRow } from "./memory.js";
import { cpuRatio, pullScaling, type CaseSummary } from "./summary.js";

/** One goal of the issue, checked for one variant; pass is undefined when not measured. */
export interface TargetResult {
  readonly variant: string;
  readonly target: string;
  readonly measured: string;
  readonly pass: boolean | undefined;
}

const fixed = (value: number, digits = 2) => (Number.isFinite(value) ? value.toFixed(digits) : "n/a");
const times = (ratio: number) => (Number.isFinite(ratio) ? `${ratio.toFixed(2)}×` : "no baseline");

function find(summaries: readonly CaseSummary[], scenario: string, variant: string): CaseSummary[] {
  return summaries.filter((summary) => summary.scenario === scenario && summary.variant === variant);
}

const stackRoles = ["edge", "message"] as const;
/** Scenarios whose CPU and throughput the targets hold against the baseline. */
export const hopScenarios: readonly string[] = ["send-rotating", "pull"];
/** Least throughput of the stack in those scenarios, as a ratio to the baseline's. */
export const minThroughputRatio = 0.5;
/** The untraced stack, which tracing's cost is measured against. */
const untraced = "stack";
/** Variants with tracing on: as `make run` ships it (no exporter) and as the chart deploys it (OTLP export). */
const traced = ["stack-traced", "stack-otlp", "stack-otlp-all"];

/**
 * The hop's targets for one case of one variant: CPU per request of the edge and the message
 * service together at most 2× the baseline process's, and throughput at least 0.5× the
 * baseline's, both as medians of per-round ratios.
 */
function hopTargets(summary: CaseSummary, records: readonly RunRecord[]): TargetResult[] {
  const cpu = cpuRatio(records, summary, { name: summary.variant, roles: stackRoles }, { name: "baseline", roles: ["baseline"] });
  const throughput = summary.ratioToBaseline?.median ?? Number.NaN;
  return [
    {
      variant: summary.variant,
      target: `${summary.case}: CPU per request (edge + message) ≤ 2.0× the baseline's`,
      measured: cpu ? `${times(cpu.median)} (${fixed(summary.cpuMicrosPerRequest.edge?.median ?? Number.NaN, 0)} + ${fixed(summary.cpuMicrosPerRequest.message?.median ?? Number.NaN, 0)} µs)` : "no baseline",
      pass: cpu ? cpu.median <= 2 : undefined,
    },
    {
      variant: summary.variant,
      target: `${summary.case}: ≥ ${minThroughputRatio}× baseline req/s`,
      measured: times(throughput),
      pass: Number.isFinite(throughput) ? throughput >= minThroughputRatio : undefined,
    },
  ];
}

/** Tracing's own cost: CPU per request (edge + message) of a traced variant at most 1.15× the untraced stack's. */
function tracingTarget(summary: CaseSummary, records: readonly RunRecord[]): TargetResult {
  const ratio = cpuRatio(records, summary, { name: summary.variant, roles: stackRoles }, { name: untraced, roles: stackRoles });
  return {
    variant: summary.variant,
    target: `${summary.case}: tracing costs ≤ 15% CPU over ${untraced}`,
    measured: ratio ? `+${fixed((ratio.median - 1) * 100, 0)}% (${times(ratio.median)})` : `no ${untraced} run`,
    pass: ratio ? ratio.median <= 1.15 : undefined,
  };
}

/** The targets for every variant other than the baseline. */
export function checkTargets(
  summaries: readonly CaseSummary[],
  records: readonly RunRecord[],
  variants: readonly string[],
): TargetResult[] {
  const results: TargetResult[] = [];
  for (const variant of variants.filter((name) => name !== "baseline")) {
    for (const scenario of hopScenarios) {
      for (const summary of find(summaries, scenario, variant)) {
        results.push(...hopTargets(summary, records));
        if (traced.includes(variant)) results.push(tracingTarget(summary, records));
      }
    }
    const scaling = pullScaling(records, variant);
    if (scaling) {
      const cases = find(summaries, "pull-scaling", variant).map((summary) => summary.case);
      results.push({
        variant,
        target: `time(${cases[1]}) ≤ 1.2× time(${cases[0]})`,
        measured: `${fixed(scaling.time.median)}× (p50 ${fixed(scaling.p50.median)}×)`,
        pass: scaling.time.median <= 1.2,
      });
    }
    for (const summary of find(summaries, "fixed-rate", variant)) {
      const failed = summary.errors + summary.non2xx;
      results.push({
        variant,
        target: `${summary.case}: p99 ≤ 10 ms from the scheduled start (open loop), no errors`,
        measured: `p99 ${fixed(summary.p99Ms.median)} ms (runs ${fixed(summary.p99Ms.min)}–${fixed(summary.p99Ms.max)}), ${failed} errors`,
        pass: summary.p99Ms.median <= 10 && failed === 0,
      });
    }
  }
  return results;
}

/**
 * Memory: every key a send through the edge leaves (its message and its retry protection)
 * costs at most twice the bare stream entry, in every case measured.
 */
export function memoryTargets(rows: readonly MemoryRow[]): TargetResult[] {
  return rows
    .filter((row) => row.layout === edgeSendLayout)
    .map((row) => {
      const alone = rows.find((other) => other.layout === entryAloneLayout && other.chats === row.chats && other.perChat === row.perChat);
      const ratio = alone ? row.usedMemoryBytesPerMessage / alone.usedMemoryBytesPerMessage : Number.NaN;
      return {
        variant: "redis memory",
        target: `${row.chats.toLocaleString("en-US")} × ${row.perChat.toLocaleString("en-US")}: edge send ≤ 2.0× the stream entry alone (all keys)`,
        measured: `${fixed(row.usedMemoryBytesPerMessage, 1)} vs ${fixed(alone?.usedMemoryBytesPerMessage ?? Number.NaN, 1)} B/msg: ${times(ratio)}`,
        pass: Number.isFinite(ratio) ? ratio <= 2 : undefined,
      };
    });
}
