import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { renderChart } from "./chart.js";
import type { BenchConfig } from "./config.js";
import type { RunRecord } from "./execute.js";
import type { MachineInfo } from "./machine.js";
import type { MemoryRow } from "./memory.js";
import type { LiveOutcome } from "./live/live-run.js";
import { liveTables, liveTargets } from "./live/live-report.js";
import { cpuPerRequestTable, mainTable, memoryTable, scalingTable, targetsTable } from "./report.js";
import type { Scenario } from "./scenarios.js";
import { summarize } from "./summary.js";
import { checkTargets, memoryTargets } from "./targets.js";
import type { Variant } from "./variants.js";

/** Everything one benchmark run measured, and under which conditions. */
export interface Outcome {
  readonly startedAt: Date;
  readonly machine: MachineInfo;
  readonly config: BenchConfig;
  readonly loadgen: "autocannon" | "wrk";
  readonly variants: readonly Variant[];
  readonly scenarios: readonly Scenario[];
  readonly records: readonly RunRecord[];
  readonly memory: readonly MemoryRow[];
  readonly live?: LiveOutcome | undefined;
}

function analyse(outcome: Outcome) {
  const variantNames = outcome.variants.map((variant) => variant.name);
  const summaries = summarize(outcome.records);
  const targets = [...checkTargets(summaries, outcome.records, variantNames), ...liveTargets(outcome.live), ...memoryTargets(outcome.memory)];
  return { variantNames, summaries, targets };
}

/** The tables printed at the end of a run. */
export function renderReport(outcome: Outcome): string {
  const { machine, config, loadgen } = outcome;
  const { variantNames, summaries, targets } = analyse(outcome);
  const sections = [
    `Benchmark ${outcome.startedAt.toISOString()} — ${machine.cpuModel}, ${machine.cores} cores, node ${machine.nodeVersion}, ` +
      `redis ${machine.redisVersion}; ${config.runs} run(s) × ${config.durationS} s, ${config.connections} connections, ` +
      `closed-loop load from ${loadgen === "wrk" ? `wrk ${machine.wrkVersion}` : `autocannon ${machine.autocannonVersion}`} ` +
      `(fixed rate: open-loop undici sender); load average at start ${machine.loadAverageAtStart.join(" ")}`,
  ];
  if (summaries.length > 0) {
    sections.push(mainTable(summaries), "CPU per request (medians):", cpuPerRequestTable(summaries));
  }
  const scaling = scalingTable(outcome.records, variantNames);
  if (scaling) sections.push("Pull cost, large vs small history (per-round ratios):", scaling);
  if (outcome.live) sections.push(...liveTables(outcome.live));
  if (targets.length > 0) sections.push("Targets:", targetsTable(targets));
  if (outcome.memory.length > 0) sections.push("Redis memory per message (20-byte texts):", memoryTable(outcome.memory));
  sections.push(["Variants:", ...outcome.variants.map((variant) => `- ${variant.name}: ${variant.note}`)].join("\n"));
  return sections.join("\n\n");
}

/**
 * Writes <dir>/<start time>.json with every run, the summaries and the conditions, and beside it
 * <start time>.svg, the chart of the same run; returns both paths.
 */
export function saveReport(outcome: Outcome): { results: string; chart: string } {
  const { summaries, targets } = analyse(outcome);
  const { resultsDir, ...config } = outcome.config;
  mkdirSync(resultsDir, { recursive: true });
  const stem = join(resultsDir, outcome.startedAt.toISOString().replace(/[:.]/g, "-"));
  const report = {
    startedAt: outcome.startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    machine: outcome.machine,
    config: { ...config, loadgen: outcome.loadgen },
    variants: outcome.variants,
    scenarios: outcome.scenarios.map(({ name, description }) => ({ name, description })),
    runs: outcome.records,
    summaries,
    targets,
    memory: outcome.memory,
    live: outcome.live,
  };
  writeFileSync(`${stem}.json`, `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(`${stem}.svg`, renderChart(outcome));
  return { results: `${stem}.json`, chart: `${stem}.svg` };
}
