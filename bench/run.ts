// The benchmark: starts its own Redis, the baseline and the stack, runs every scenario
// BENCH_RUNS times interleaving the variants, prints the tables and writes
// bench/results/<timestamp>.json with its chart beside it (.svg). See bench/README.md.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Redis } from "ioredis";
import { assertRedisInstalled, startRedis, type RedisServer } from "../test/harness/redis.js";
import { waitFor } from "../test/harness/wait.js";
import { loadConfig, type BenchConfig } from "./lib/config.js";
import { checkCase, execute, type RunRecord } from "./lib/execute.js";
import { machineInfo } from "./lib/machine.js";
import { measureMemory, type MemoryRow } from "./lib/memory.js";
import { runLive, type LiveOutcome } from "./lib/live/live-run.js";
import { renderReport, saveReport, type Outcome } from "./lib/output.js";
import { startVariant, type VariantProcesses } from "./lib/processes.js";
import { scenarioNames, scenarios, type Case, type Scenario } from "./lib/scenarios.js";
import { exportsToSink, selectVariants, waitsForReplicas, type Variant } from "./lib/variants.js";
import { startOtlpSink } from "./lib/otlp-sink.js";
import { wrkInstalled } from "./lib/wrk.js";

const root = fileURLToPath(new URL("../", import.meta.url));

function log(message: string): void {
  process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}

function selectedScenarios(config: BenchConfig): string[] {
  const names = config.scenarios.length > 0 ? [...config.scenarios] : scenarioNames;
  const unknown = names.filter((name) => !scenarioNames.includes(name));
  if (unknown.length > 0) throw new Error(`unknown scenario(s) ${unknown.join(", ")}; known: ${scenarioNames.join(", ")}`);
  return names;
}

function describeRun(record: RunRecord): string {
  const cpu = Object.entries(record.cpuSeconds)
    .map(([role, seconds]) => `${role} ${seconds.toFixed(2)}`)
    .join(" ");
  const failures = record.errors + record.non2xx > 0 ? `  ERRORS ${record.errors + record.non2xx}` : "";
  return (
    `${record.case} | ${record.variant} | round ${record.round}: ${Math.round(record.throughput)} req/s, ` +
    `p50 ${record.latencyMs.p50.toFixed(2)} p99 ${record.latencyMs.p99.toFixed(2)} ms | CPU s ${cpu}${failures}`
  );
}

/** wrk when asked for or (auto) when installed, else autocannon. */
async function chooseLoadgen(wanted: BenchConfig["loadgen"]): Promise<"autocannon" | "wrk"> {
  if (wanted === "autocannon") return "autocannon";
  if (await wrkInstalled()) return "wrk";
  if (wanted === "wrk") {
    throw new Error("BENCH_LOADGEN=wrk needs wrk: `apt-get install -y wrk` (Debian/Ubuntu), `brew install wrk` (macOS)");
  }
  log("wrk is not installed: autocannon drives the load, and takes more CPU from the servers (`apt-get install -y wrk`)");
  return "autocannon";
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Checks, warms up, then measures each case `runs` times, alternating the variant order per round. */
async function runScenario(
  name: string,
  cases: readonly Case[],
  targets: readonly VariantProcesses[],
  redisPid: number,
  config: BenchConfig,
  loadgen: "autocannon" | "wrk",
): Promise<RunRecord[]> {
  const serving = (testCase: Case) => (testCase.stackOnly ? targets.filter((target) => target.variant.kind !== "baseline") : targets);
  for (const testCase of cases) {
    for (const target of serving(testCase)) {
      const problem = await checkCase(testCase, target);
      if (problem) throw new Error(`${testCase.label} against ${target.variant.name}: ${problem}`);
    }
  }
  for (const target of targets) {
    for (const testCase of cases) {
      if (serving(testCase).includes(target)) await execute(name, testCase, target, redisPid, config.warmupS, 0, loadgen);
    }
  }
  const records: RunRecord[] = [];
  for (let round = 1; round <= config.runs; round++) {
    const order = round % 2 === 1 ? targets : [...targets].reverse();
    for (const target of order) {
      for (const testCase of cases) {
        if (!serving(testCase).includes(target)) continue;
        await pause(300);
        const record = await execute(name, testCase, target, redisPid, config.durationS, round, loadgen);
        log(describeRun(record));
        records.push(record);
      }
    }
  }
  return records;
}

/** Starts Redis and every variant, runs the chosen scenarios, and stops everything again. */
/** A second redis-server replicating `primary`, once it is in sync, so WAIT 1 can be confirmed. */
async function startReplicaOf(primary: RedisServer): Promise<RedisServer> {
  const replica = await startRedis();
  await replica.cli("replicaof", primary.host, String(primary.port));
  await waitFor("the bench Redis replica to sync", async () => /master_link_status:up/.test(await replica.cli("info", "replication")));
  log(`replica of the bench Redis on ${replica.url} (variants with REDIS_WAIT_REPLICAS need it)`);
  return replica;
}

async function measure(
  config: BenchConfig,
  variants: readonly Variant[],
  chosen: readonly Scenario[],
  withMemory: boolean,
  withLive: boolean,
  loadgen: "autocannon" | "wrk",
): Promise<Outcome> {
  const startedAt = new Date();
  const started: VariantProcesses[] = [];
  const redisServer = await startRedis();
  const redis = new Redis(redisServer.url);
  const replica = variants.some(waitsForReplicas) ? await startReplicaOf(redisServer) : undefined;
  const sink = variants.some(exportsToSink) ? await startOtlpSink() : undefined;
  if (sink) log(`OTLP sink for exported spans on ${sink.url}`);
  const cleanup = async () => {
    for (const target of started.splice(0)) await target.stop().catch(() => undefined);
    if (sink) log(`OTLP sink received ${sink.received().exports} exports, ${sink.received().bytes} bytes`);
    await sink?.close();
    redis.disconnect();
    await replica?.stop();
    await redisServer.stop();
  };
  const onSignal = () => void cleanup().finally(() => process.exit(130));
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    const redisPid = redisServer.process.pid ?? -1;
    const machine = await machineInfo(redis);
    log(`redis ${machine.redisVersion} on ${redisServer.url}; node ${machine.nodeVersion}; ${machine.cores} cores`);
    for (const variant of variants) {
      const target = await startVariant(variant, redisServer.url, sink?.url);
      started.push(target);
      log(`${variant.name} ready at ${target.url} (pids ${target.processes.map((p) => `${p.role} ${p.pid}`).join(", ")})`);
    }
    const records: RunRecord[] = [];
    for (const scenario of chosen) {
      log(`== ${scenario.name}: ${scenario.description}`);
      const cases = await scenario.prepare(redis, config);
      records.push(...(await runScenario(scenario.name, cases, started, redisPid, config, loadgen)));
    }
    let live: LiveOutcome | undefined;
    if (withLive) {
      log("== live: Server-Sent Events delivery, idle streams, reconnect storm");
      live = await runLive(started, (variant) => startVariant(variant, redisServer.url, sink?.url), redis, config, log);
    }
    let memory: MemoryRow[] = [];
    if (withMemory) {
      log("== memory: bytes per message of each Redis layout (FLUSHALL between layouts)");
      memory = await measureMemory(redis, [
        { chats: 1, perChat: config.memoryMessages },
        { chats: config.memoryChats, perChat: config.memoryPerChat },
        { chats: config.memoryChats, perChat: 1 },
      ]);
    }
    return { startedAt, machine, config, loadgen, variants, scenarios: chosen, records, memory, live };
  } finally {
    await cleanup();
  }
}

async function main(): Promise<void> {
  const config = loadConfig();
  const variants = selectVariants(config.extraVariantsJson, config.variants);
  const names = selectedScenarios(config);
  for (const service of ["edge", "message"]) {
    if (!existsSync(join(root, "services", service, "dist", "main.js"))) {
      throw new Error(`services/${service}/dist/main.js is missing: run \`npm run build\` (or \`make build\`) first`);
    }
  }
  await assertRedisInstalled();
  const loadgen = await chooseLoadgen(config.loadgen);
  const chosen = scenarios.filter((scenario) => names.includes(scenario.name));
  const outcome = await measure(config, variants, chosen, names.includes("memory"), names.includes("live"), loadgen);
  process.stdout.write(`\n${renderReport(outcome)}\n`);
  const saved = saveReport(outcome);
  process.stdout.write(`\nresults: ${saved.results}\nchart: ${saved.chart}\n`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
