import { measureCpu } from "./cpu.js";
import { closedLoop, type LoadResult } from "./load.js";
import { wrkClosedLoop } from "./wrk.js";
import { openLoop } from "./open-loop.js";
import type { VariantProcesses } from "./processes.js";
import type { Case } from "./scenarios.js";

/** One measured run of one case against one variant. */
export interface RunRecord extends Omit<LoadResult, "loadgenCpuSeconds"> {
  readonly scenario: string;
  readonly case: string;
  readonly variant: string;
  /** 1-based round; rounds interleave the variants. */
  readonly round: number;
  /** CPU seconds used during the run, per process role (edge, message, redis, baseline, loadgen). */
  readonly cpuSeconds: Record<string, number>;
  /** Fixed-rate runs only. */
  readonly openLoop?: { scheduled: number; timeouts: number; maxDispatchLagMs: number };
}

/** Sends one request of the case and returns what is wrong with the answer, if anything. */
export async function checkCase(testCase: Case, target: VariantProcesses): Promise<string | undefined> {
  const shape = testCase.request(0);
  const response = await fetch(`${target.url}${shape.path}`, {
    method: testCase.method,
    headers: testCase.method === "POST" ? { "content-type": "application/json" } : {},
    ...(shape.body === undefined ? {} : { body: shape.body }),
  });
  const text = await response.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return `answered ${response.status} with non-JSON: ${text.slice(0, 200)}`;
  }
  return testCase.expect(response.status, body);
}

export async function execute(
  scenario: string,
  testCase: Case,
  target: VariantProcesses,
  redisPid: number,
  durationS: number,
  round: number,
  loadgen: "autocannon" | "wrk" = "autocannon",
): Promise<RunRecord> {
  const pids: Record<string, number> = { redis: redisPid };
  for (const member of target.processes) pids[member.role] = member.pid;
  const cpuUsed = measureCpu(pids);
  const common = { url: target.url, method: testCase.method, request: testCase.request, durationS };
  if (testCase.load.kind === "closed") {
    const load = { ...common, connections: testCase.load.connections };
    const { loadgenCpuSeconds, ...result } =
      loadgen === "wrk" ? await wrkClosedLoop(load, testCase.distinct) : await closedLoop(load);
    const cpuSeconds = cpuUsed();
    if (loadgenCpuSeconds !== undefined) cpuSeconds.loadgen = loadgenCpuSeconds;
    return { scenario, case: testCase.label, variant: target.variant.name, round, ...result, cpuSeconds };
  }
  const result = await openLoop({ ...common, rate: testCase.load.rate, maxConnections: 64 });
  return {
    scenario,
    case: testCase.label,
    variant: target.variant.name,
    round,
    throughput: result.throughput,
    requests: result.completed,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
    durationS,
    latencyMs: result.latencyMs,
    cpuSeconds: cpuUsed(),
    openLoop: { scheduled: result.scheduled, timeouts: result.timeouts, maxDispatchLagMs: result.maxDispatchLagMs },
  };
}
