/** Everything a benchmark run can be told through the environment, read once. */
export interface BenchConfig {
  /** Seconds of one measured run. */
  readonly durationS: number;
  /** Measured runs of each scenario and variant (interleaved). */
  readonly runs: number;
  /** Seconds of the unmeasured warm-up of each scenario and variant. */
  readonly warmupS: number;
  /**
   * Drives the closed-loop scenarios: wrk (C, light) or autocannon (from npm, in-process);
   * "auto" takes wrk when it is installed.
   */
  readonly loadgen: "auto" | "autocannon" | "wrk";
  /** Concurrent connections of the closed-loop scenarios. */
  readonly connections: number;
  /** Requests per second of the fixed-rate scenario. */
  readonly fixedRate: number;
  /** Chats the rotating send scenarios spread over. */
  readonly rotatingChats: number;
  /** Page size of every pull. */
  readonly pageSize: number;
  /** History of the pull-50 scenario's chat. */
  readonly pullHistory: number;
  /** Chats of the member whose list the list scenario reads. */
  readonly listChats: number;
  /** Small and large histories of the pull-scaling scenario. */
  readonly scalingHistories: readonly [number, number];
  /** Messages of the memory scenario's one-chat case. */
  readonly memoryMessages: number;
  /** Chats, and messages in each, of the memory scenario's many-chats case. */
  readonly memoryChats: number;
  readonly memoryPerChat: number;
  /** The live (real-time) scenario's sizes. */
  readonly live: {
    readonly rate: number;
    readonly chats: number;
    readonly hotRate: number;
    readonly hotSubscribers: number;
    readonly idleStreams: number;
    readonly stormStreams: number;
    readonly stormChats: number;
  };
  /** Scenario names to run; empty means all. */
  readonly scenarios: readonly string[];
  /** Variant names to run; empty means all defined. */
  readonly variants: readonly string[];
  /** Extra variants as JSON (see variants.ts). */
  readonly extraVariantsJson: string;
  /** Where the JSON result goes. */
  readonly resultsDir: string;
}

function positiveInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) {
    throw new Error(`${name} must be a positive integer, got "${raw}"`);
  }
  return value;
}

function list(name: string): string[] {
  return (process.env[name] ?? "")
    .split(",")
    .map((item) => item.trim())
    .filter((item) => item !== "");
}

function loadgen(): BenchConfig["loadgen"] {
  const raw = process.env.BENCH_LOADGEN || "auto";
  if (raw !== "auto" && raw !== "autocannon" && raw !== "wrk") {
    throw new Error(`BENCH_LOADGEN must be auto, autocannon or wrk, got "${raw}"`);
  }
  return raw;
}

export function loadConfig(): BenchConfig {
  return {
    loadgen: loadgen(),
    durationS: positiveInt("BENCH_DURATION", 10),
    runs: positiveInt("BENCH_RUNS", 3),
    warmupS: positiveInt("BENCH_WARMUP", 3),
    connections: positiveInt("BENCH_CONNECTIONS", 64),
    fixedRate: positiveInt("BENCH_RATE", 1_000),
    rotatingChats: positiveInt("BENCH_CHATS", 1_000),
    pageSize: positiveInt("BENCH_PAGE", 50),
    pullHistory: positiveInt("BENCH_PULL_HISTORY", 100_000),
    listChats: positiveInt("BENCH_LIST_CHATS", 1_000),
    scalingHistories: [positiveInt("BENCH_SMALL_HISTORY", 1_000), positiveInt("BENCH_LARGE_HISTORY", 1_000_000)],
    memoryMessages: positiveInt("BENCH_MEMORY_MESSAGES", 100_000),
    memoryChats: positiveInt("BENCH_MEMORY_CHATS", 100_000),
    memoryPerChat: positiveInt("BENCH_MEMORY_PER_CHAT", 10),
    live: {
      rate: positiveInt("BENCH_LIVE_RATE", 1_000),
      chats: positiveInt("BENCH_LIVE_CHATS", 1_000),
      hotRate: positiveInt("BENCH_LIVE_HOT_RATE", 20),
      hotSubscribers: positiveInt("BENCH_LIVE_HOT_SUBSCRIBERS", 1_000),
      idleStreams: positiveInt("BENCH_LIVE_IDLE_STREAMS", 10_000),
      stormStreams: positiveInt("BENCH_LIVE_STORM_STREAMS", 5_000),
      stormChats: positiveInt("BENCH_LIVE_STORM_CHATS", 50),
    },
    scenarios: list("BENCH_SCENARIOS"),
    variants: list("BENCH_VARIANTS"),
    extraVariantsJson: process.env.BENCH_EXTRA_VARIANTS ?? "",
    resultsDir: process.env.BENCH_RESULTS_DIR || new URL("../results/", import.meta.url).pathname,
  };
}
