import type { Redis } from "ioredis";
import type { BenchConfig } from "../config.js";
import type { VariantProcesses } from "../processes.js";
import { fanOut, idleStreams, reconnectStorm, type FanOutResult, type IdleStreamsResult, type StormResult } from "./live-bench.js";

/** What the live scenario measured, against one stack variant. */
export interface LiveOutcome {
  readonly variant: string;
  readonly fanOut: readonly FanOutResult[];
  readonly idle: IdleStreamsResult;
  readonly storm: StormResult;
}

/**
 * The real-time scenario, against the first stack variant run (the stack as deployed, by
 * default): delivery latency at a fixed send rate over many watched chats and over one hot
 * chat, memory per idle stream, and what a reconnect storm costs Redis.
 */
export async function runLive(targets: readonly VariantProcesses[], redis: Redis, config: BenchConfig, log: (line: string) => void): Promise<LiveOutcome | undefined> {
  const stack = targets.find((target) => target.variant.kind === "stack");
  if (!stack) return undefined;
  const pid = (role: string) => stack.processes.find((process) => process.role === role)!.pid;
  const target = { edgeUrl: stack.url, edgePid: pid("edge"), messagePid: pid("message") };
  const live = config.live;
  log(`live: ${live.rate} sends/s over ${live.chats} chats, one stream each, against ${stack.variant.name}`);
  const spread = await fanOut(target, `${live.rate}/s over ${live.chats} chats × 1 stream`, { chats: live.chats, subscribersPerChat: 1, rate: live.rate, durationS: config.durationS });
  log(`live: ${live.hotRate} sends/s into 1 chat watched by ${live.hotSubscribers} streams`);
  const hot = await fanOut(target, `${live.hotRate}/s into 1 chat × ${live.hotSubscribers} streams`, { chats: 1, subscribersPerChat: live.hotSubscribers, rate: live.hotRate, durationS: config.durationS });
  log(`live: ${live.idleStreams} idle streams`);
  const idle = await idleStreams(target, { streams: live.idleStreams, chats: Math.max(1, Math.floor(live.idleStreams / 10)) });
  log(`live: reconnect storm of ${live.stormStreams} streams over ${live.stormChats} chats`);
  const storm = await reconnectStorm(target, redis, { streams: live.stormStreams, chats: live.stormChats });
  return { variant: stack.variant.name, fanOut: [spread, hot], idle, storm };
}
