import type { RunRecord } from "./execute.js";
import { edgeSendLayout, entryAloneLayout, type MemoryRow } from "./memory.js";
import { pullScaling, type CaseSummary } from "./summary.js";

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

function sendTargets(summaries: readonly CaseSummary[], variant: string): TargetResult[] {
  return ["send-rotating", "send-hot"].flatMap((scenario) =>
    find(summaries, scenario, variant).map((summary) => {
      const ratio = summary.ratioToBaseline?.median ?? Number.NaN;
      const p99 = summary.p99Ms.median;
      return {
        variant,
        target: `${summary.case}: ≥ 0.25× baseline req/s and p99 ≤ 20 ms`,
        measured: `${times(ratio)}, p99 ${fixed(p99, 1)} ms`,
        pass: Number.isFinite(ratio) ? ratio >= 0.25 && p99 <= 20 : undefined,
      };
    }),
  );
}

/** The targets for every variant other than the baseline. */
export function checkTargets(
  summaries: readonly CaseSummary[],
  records: readonly RunRecord[],
  variants: readonly string[],
): TargetResult[] {
  const results: TargetResult[] = [];
  for (const variant of variants.filter((name) => name !== "baseline")) {
    results.push(...sendTargets(summaries, variant));
    for (const summary of find(summaries, "pull", variant)) {
      const ratio = summary.ratioToBaseline?.median ?? Number.NaN;
      results.push({
        variant,
        target: `${summary.case}: ≥ 0.25× baseline req/s`,
        measured: times(ratio),
        pass: Number.isFinite(ratio) ? ratio >= 0.25 : undefined,
      });
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
      results.push({
        variant,
        target: `${summary.case}: p99 < 5 ms (open loop)`,
        measured: `p99 ${fixed(summary.p99Ms.median)} ms (runs ${fixed(summary.p99Ms.min)}–${fixed(summary.p99Ms.max)})`,
        pass: summary.p99Ms.median < 5,
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
