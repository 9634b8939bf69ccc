import type { Redis } from "ioredis";
import type { BenchConfig } from "../config.js";
import type { VariantProcesses } from "../processes.js";
import type { Variant } from "../variants.js";
import { fanOut, idleStreams, medianOfRuns, reconnectStorm, type FanOutCase, type FanOutResult, type IdleStreamsResult, type LiveTarget, type StormResult } from "./live-bench.js";

/** What the live scenario measured, against one stack variant. */
export interface LiveOutcome {
  readonly variant: string;
  /** Each case's medians over BENCH_RUNS runs, with the runs. */
  readonly fanOut: readonly FanOutCase[];
  readonly idle: IdleStreamsResult;
  readonly storm: StormResult;
}

function liveTarget(stack: VariantProcesses): LiveTarget {
  const pid = (role: string) => stack.processes.find((process) => process.role === role)!.pid;
  return { edgeUrl: stack.url, edgePid: pid("edge"), messagePid: pid("message") };
}

/**
 * The real-time scenario, against the first stack variant run (the stack as deployed, by
 * default): delivery latency at a fixed send rate over many watched chats and over one hot
 * chat, memory per idle stream, and what a reconnect storm costs Redis. Memory is measured
 * on fresh processes of the same variant (`start`), whose memory no earlier case has grown.
 */
export async function runLive(
  targets: readonly VariantProcesses[],
  start: (variant: Variant) => Promise<VariantProcesses>,
  redis: Redis,
  config: BenchConfig,
  log: (line: string) => void,
): Promise<LiveOutcome | undefined> {
  const stack = targets.find((target) => target.variant.kind === "stack");
  if (!stack) return undefined;
  const target = liveTarget(stack);
  const live = config.live;
  log(`live: ${live.idleStreams} idle streams, on fresh processes of ${stack.variant.name}`);
  const fresh = await start(stack.variant);
  const idle = await idleStreams(liveTarget(fresh), { streams: live.idleStreams, chats: Math.max(1, Math.floor(live.idleStreams / 10)) }).finally(() =>
    fresh.stop(),
  );
  // First, while no other chat is watched: every watched chat's feed checks its newest
  // message now and then, which would count among the storm's reads.
  log(`live: reconnect storm of ${live.stormStreams} streams over ${live.stormChats} chats, against ${stack.variant.name}`);
  const storm = await reconnectStorm(target, redis, { streams: live.stormStreams, chats: live.stormChats });
  const repeat = async (label: string, options: Parameters<typeof fanOut>[2]) => {
    const runs: FanOutResult[] = [];
    for (let run = 1; run <= config.runs; run++) {
      log(`live: ${label} (run ${run} of ${config.runs})`);
      runs.push(await fanOut(target, label, options));
    }
    return medianOfRuns(runs);
  };
  const spread = await repeat(`${live.rate}/s over ${live.chats} chats × 1 stream`, { chats: live.chats, subscribersPerChat: 1, rate: live.rate, durationS: config.durationS });
  const hot = await repeat(`${live.hotRate}/s into 1 chat × ${live.hotSubscribers} streams`, { chats: 1, subscribersPerChat: live.hotSubscribers, rate: live.hotRate, durationS: config.durationS });
  return { variant: stack.variant.name, fanOut: [spread, hot], idle, storm };
}
