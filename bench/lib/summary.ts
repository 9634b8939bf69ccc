import type { RunRecord } from "./execute.js";
import { spread, type Spread } from "./stats.js";

export const cpuRoles = ["edge", "message", "redis", "baseline", "loadgen"] as const;
const serverRoles = ["edge", "message", "redis", "baseline"] as const;

/** All runs of one case against one variant, reduced to medians and spreads. */
export interface CaseSummary {
  readonly scenario: string;
  readonly case: string;
  readonly variant: string;
  readonly runs: number;
  readonly throughput: Spread;
  readonly p50Ms: Spread;
  readonly p90Ms: Spread;
  readonly p99Ms: Spread;
  /** Per role; absent roles (e.g. edge for the baseline) are left out. */
  readonly cpuSeconds: Record<string, Spread>;
  /** CPU microseconds per successful request, per role, plus "server" (all but loadgen). */
  readonly cpuMicrosPerRequest: Record<string, Spread>;
  /** This variant's throughput over the baseline's in the same round; absent for the baseline. */
  readonly ratioToBaseline?: Spread;
  readonly errors: number;
  readonly non2xx: number;
}

function byRound(records: readonly RunRecord[]): Map<number, RunRecord> {
  return new Map(records.map((record) => [record.round, record]));
}

export function summarize(records: readonly RunRecord[], baselineName = "baseline"): CaseSummary[] {
  const groups = new Map<string, RunRecord[]>();
  for (const record of records) {
    const key = `${record.scenario}\u0000${record.case}\u0000${record.variant}`;
    groups.set(key, [...(groups.get(key) ?? []), record]);
  }
  const summaries: CaseSummary[] = [];
  for (const runs of groups.values()) {
    const first = runs[0] as RunRecord;
    const cpuSeconds: Record<string, Spread> = {};
    const cpuMicrosPerRequest: Record<string, Spread> = {};
    for (const role of cpuRoles) {
      if (!runs.some((run) => role in run.cpuSeconds)) continue;
      cpuSeconds[role] = spread(runs.map((run) => run.cpuSeconds[role] ?? Number.NaN));
      cpuMicrosPerRequest[role] = spread(runs.map((run) => ((run.cpuSeconds[role] ?? Number.NaN) * 1e6) / run.requests));
    }
    cpuMicrosPerRequest.server = spread(runs.map((run) => cpuPerRequest(run, serverRoles)));
    let ratioToBaseline: Spread | undefined;
    if (first.variant !== baselineName) {
      const baselineRuns = byRound(
        records.filter((r) => r.scenario === first.scenario && r.case === first.case && r.variant === baselineName),
      );
      const ratios = runs
        .filter((run) => baselineRuns.has(run.round))
        .map((run) => run.throughput / (baselineRuns.get(run.round) as RunRecord).throughput);
      if (ratios.length > 0) ratioToBaseline = spread(ratios);
    }
    summaries.push({
      scenario: first.scenario,
      case: first.case,
      variant: first.variant,
      runs: runs.length,
      throughput: spread(runs.map((run) => run.throughput)),
      p50Ms: spread(runs.map((run) => run.latencyMs.p50)),
      p90Ms: spread(runs.map((run) => run.latencyMs.p90)),
      p99Ms: spread(runs.map((run) => run.latencyMs.p99)),
      cpuSeconds,
      cpuMicrosPerRequest,
      ...(ratioToBaseline ? { ratioToBaseline } : {}),
      errors: runs.reduce((sum, run) => sum + run.errors, 0),
      non2xx: runs.reduce((sum, run) => sum + run.non2xx, 0),
    });
  }
  return summaries;
}

/** time(large history) / time(small history) per round, time being 1 / throughput. */
export function pullScaling(records: readonly RunRecord[], variant: string): { time: Spread; p50: Spread } | undefined {
  const runs = records.filter((record) => record.scenario === "pull-scaling" && record.variant === variant);
  const cases = [...new Set(runs.map((run) => run.case))];
  if (cases.length !== 2) return undefined;
  const [small, large] = cases.map((label) => byRound(runs.filter((run) => run.case === label))) as [
    Map<number, RunRecord>,
    Map<number, RunRecord>,
  ];
  const timeRatios: number[] = [];
  const p50Ratios: number[] = [];
  for (const [round, smallRun] of small) {
    const largeRun = large.get(round);
    if (!largeRun) continue;
    timeRatios.push(smallRun.throughput / largeRun.throughput);
    p50Ratios.push(largeRun.latencyMs.p50 / smallRun.latencyMs.p50);
  }
  return { time: spread(timeRatios), p50: spread(p50Ratios) };
}

/** CPU microseconds per successful request of one run, summed over `roles`. */
function cpuPerRequest(run: RunRecord, roles: readonly string[]): number {
  return (roles.reduce((sum, role) => sum + (run.cpuSeconds[role] ?? 0), 0) * 1e6) / run.requests;
}

/**
 * Per round, the CPU per request of `variant`'s `roles` over that of `other`'s `otherRoles`,
 * for one case: e.g. the stack's edge + message service against the baseline process, or a
 * traced stack against the untraced one. Undefined when the two never ran in one round.
 */
export function cpuRatio(
  records: readonly RunRecord[],
  testCase: { readonly scenario: string; readonly case: string },
  variant: { readonly name: string; readonly roles: readonly string[] },
  other: { readonly name: string; readonly roles: readonly string[] },
): Spread | undefined {
  const of = (name: string) => byRound(records.filter((r) => r.scenario === testCase.scenario && r.case === testCase.case && r.variant === name));
  const mine = of(variant.name);
  const theirs = of(other.name);
  const ratios = [...mine].filter(([round]) => theirs.has(round)).map(([round, run]) => cpuPerRequest(run, variant.roles) / cpuPerRequest(theirs.get(round)!, other.roles));
  return ratios.length > 0 ? spread(ratios) : undefined;
}
