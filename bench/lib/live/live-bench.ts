import { readFileSync } from "node:fs";
import type { Redis } from "ioredis";
import { Pool } from "undici";
import { waitFor } from "../../../test/harness/wait.js";
import { cpuSeconds } from "../cpu.js";
import { latencySummary, Samples, spread } from "../stats.js";
import { openBenchStream, type BenchStream } from "./sse-clients.js";

/** The processes a live scenario measures: the stack's edge and message service. */
export interface LiveTarget {
  readonly edgeUrl: string;
  readonly edgePid: number;
  readonly messagePid: number;
}

/** One fan-out case over several runs: the medians, and every run as measured. */
export interface FanOutCase extends FanOutResult {
  readonly runs: readonly FanOutResult[];
}

/** The medians of runs of one case (counts are summed: every delivery of every run). */
export function medianOfRuns(runs: readonly FanOutResult[]): FanOutCase {
  const median = (pick: (run: FanOutResult) => number) => spread(runs.map(pick)).median;
  const sum = (pick: (run: FanOutResult) => number) => runs.reduce((total, run) => total + pick(run), 0);
  return {
    ...runs[0]!,
    sent: sum((run) => run.sent),
    acknowledged: sum((run) => run.acknowledged),
    expectedDeliveries: sum((run) => run.expectedDeliveries),
    delivered: sum((run) => run.delivered),
    beforeAck: sum((run) => run.beforeAck),
    latencyMs: {
      p50: median((run) => run.latencyMs.p50),
      p90: median((run) => run.latencyMs.p90),
      p99: median((run) => run.latencyMs.p99),
      max: median((run) => run.latencyMs.max),
    },
    cpuUsPerEvent: { edge: median((run) => run.cpuUsPerEvent.edge), message: median((run) => run.cpuUsPerEvent.message) },
    runs,
  };
}

export interface FanOutResult {
  readonly case: string;
  readonly chats: number;
  readonly subscribersPerChat: number;
  readonly sendRate: number;
  readonly sent: number;
  readonly acknowledged: number;
  readonly expectedDeliveries: number;
  readonly delivered: number;
  /** Deliveries that reached their subscriber before the sender had its answer (counted as 0 ms). */
  readonly beforeAck: number;
  /** From a send's acknowledgement to the event at a subscriber. */
  readonly latencyMs: { p50: number; p90: number; p99: number; max: number };
  /** CPU microseconds per delivered event, per process. */
  readonly cpuUsPerEvent: { edge: number; message: number };
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function rssBytes(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, "utf8").split("\n").find((text) => text.startsWith("VmRSS:"));
  return Number(line?.split(/\s+/)[1] ?? Number.NaN) * 1024;
}

async function openAll(urls: readonly string[], onEvent: Parameters<typeof openBenchStream>[1]): Promise<BenchStream[]> {
  const streams: BenchStream[] = [];
  // A few hundred at a time: the edge's accept queue and the service's subscriptions keep up.
  for (let i = 0; i < urls.length; i += 200) {
    const batch = urls.slice(i, i + 200).map((url) => openBenchStream(url, onEvent));
    await Promise.all(batch.map((stream) => stream.opened));
    streams.push(...batch);
  }
  return streams;
}

/**
 * Sends `rate` messages a second for `durationS` (open loop, round-robin over `chats`) to
 * chats watched by `subscribersPerChat` streams each, and measures each delivery from its
 * send's acknowledgement. A message's text is its index, so deliveries match sends.
 */
export async function fanOut(
  target: LiveTarget,
  label: string,
  options: { chats: number; subscribersPerChat: number; rate: number; durationS: number },
): Promise<FanOutResult> {
  const run = `${process.pid}${Date.now().toString(36)}`;
  const chats = Array.from({ length: options.chats }, (_, i) => `live${run}a${i}:live${run}b${i}`);
  const ackedAt = new Float64Array(Math.ceil(options.rate * options.durationS) + 1).fill(Number.NaN);
  const latencies = new Samples();
  let delivered = 0;
  let beforeAck = 0;
  const onEvent = (event: { event: string; data: string }) => {
    if (event.event !== "message") return;
    const index = Number((JSON.parse(event.data) as { text: string }).text);
    const acked = ackedAt[index]!;
    delivered++;
    if (Number.isNaN(acked)) beforeAck++;
    latencies.push(Number.isNaN(acked) ? 0 : Math.max(0, performance.now() - acked));
  };
  const urls = chats.flatMap((chat) => Array.from({ length: options.subscribersPerChat }, () => `${target.edgeUrl}/api/events?chat=${chat}`));
  const streams = await openAll(urls, onEvent);
  const cpuBefore = { edge: cpuSeconds(target.edgePid), message: cpuSeconds(target.messagePid) };
  const pool = new Pool(target.edgeUrl, { connections: 64 });
  const total = Math.round(options.rate * options.durationS);
  let acknowledged = 0;
  const sends: Promise<void>[] = [];
  const start = performance.now();
  for (let index = 0; index < total; index++) {
    const due = start + (index * 1000) / options.rate;
    const wait = due - performance.now();
    if (wait > 1) await pause(wait);
    const chat = chats[index % chats.length]!;
    const sender = chat.split(":")[0]!;
    sends.push(
      pool
        .request({ method: "POST", path: "/api/send", headers: { "content-type": "application/json" }, body: JSON.stringify({ chat, sender, text: String(index) }) })
        .then(async (response) => {
          await response.body.dump();
          if (response.statusCode === 200) {
            ackedAt[index] = performance.now();
            acknowledged++;
          }
        }, () => {}),
    );
  }
  await Promise.all(sends);
  const expectedDeliveries = acknowledged * options.subscribersPerChat;
  await waitFor("every delivery", () => delivered >= expectedDeliveries, { timeoutMs: 15_000 }).catch(() => {});
  const cpu = { edge: cpuSeconds(target.edgePid) - cpuBefore.edge, message: cpuSeconds(target.messagePid) - cpuBefore.message };
  for (const stream of streams) stream.close();
  await pool.close();
  return {
    case: label,
    chats: options.chats,
    subscribersPerChat: options.subscribersPerChat,
    sendRate: options.rate,
    sent: total,
    acknowledged,
    expectedDeliveries,
    delivered,
    beforeAck,
    latencyMs: latencySummary(latencies.toArray()),
    cpuUsPerEvent: { edge: (cpu.edge * 1e6) / delivered, message: (cpu.message * 1e6) / delivered },
  };
}

export interface IdleStreamsResult {
  readonly streams: number;
  readonly chats: number;
  readonly edgeBytesPerStream: number;
  readonly messageBytesPerStream: number;
}

/** Opens `streams` idle streams over `chats` chats and reads how much memory each costs. */
export async function idleStreams(target: LiveTarget, options: { streams: number; chats: number }): Promise<IdleStreamsResult> {
  const run = `${process.pid}${Date.now().toString(36)}`;
  const urls = Array.from({ length: options.streams }, (_, i) => `${target.edgeUrl}/api/events?chat=idle${run}a${i % options.chats}:idle${run}b${i % options.chats}`);
  global.gc?.();
  await pause(500);
  const before = { edge: rssBytes(target.edgePid), message: rssBytes(target.messagePid) };
  const streams = await openAll(urls, () => {});
  await pause(2_000); // let both servers settle (young-generation garbage, lazily grown pools)
  const after = { edge: rssBytes(target.edgePid), message: rssBytes(target.messagePid) };
  for (const stream of streams) stream.close();
  await pause(1_000);
  return {
    streams: options.streams,
    chats: options.chats,
    edgeBytesPerStream: (after.edge - before.edge) / options.streams,
    messageBytesPerStream: (after.message - before.message) / options.streams,
  };
}

export interface StormResult {
  readonly streams: number;
  readonly chats: number;
  /** Stream-range reads (XRANGE, XREVRANGE, XINFO) Redis served while every stream resumed. */
  readonly redisReads: number;
  readonly readsPerChat: number;
  readonly resumeMs: number;
}

async function streamReads(redis: Redis): Promise<number> {
  const stats = await redis.info("commandstats");
  let calls = 0;
  for (const name of ["xrange", "xrevrange", "xinfo|stream", "xinfo"]) {
    calls += Number(new RegExp(`^cmdstat_${name.replace("|", "\\|")}:calls=(\\d+)`, "m").exec(stats)?.[1] ?? 0);
  }
  return calls;
}

/**
 * `streams` streams over `chats` chats all receive a message, lose their connections at once
 * and resume with Last-Event-ID at once: the Redis reads that costs, against the chat count.
 */
export async function reconnectStorm(target: LiveTarget, redis: Redis, options: { streams: number; chats: number }): Promise<StormResult> {
  const run = `${process.pid}${Date.now().toString(36)}`;
  const chats = Array.from({ length: options.chats }, (_, i) => `storm${run}a${i}:storm${run}b${i}`);
  const urls = Array.from({ length: options.streams }, (_, i) => `${target.edgeUrl}/api/events?chat=${chats[i % chats.length]}`);
  let received = 0;
  const streams = await openAll(urls, () => received++);
  const pool = new Pool(target.edgeUrl, { connections: 16 });
  await Promise.all(
    chats.map((chat) =>
      pool
        .request({ method: "POST", path: "/api/send", headers: { "content-type": "application/json" }, body: JSON.stringify({ chat, sender: chat.split(":")[0], text: "before the storm" }) })
        .then((response) => response.body.dump()),
    ),
  );
  await waitFor("every stream to receive its chat's message", () => received >= options.streams, { timeoutMs: 20_000 });
  const lastIds = streams.map((stream) => stream.lastId);
  for (const stream of streams) stream.close();
  await pause(500);
  const readsBefore = await streamReads(redis);
  const started = performance.now();
  const resumed = await Promise.all(urls.map((url, i) => openBenchStream(url, () => {}, lastIds[i])).map(async (stream) => (await stream.opened, stream)));
  const resumeMs = performance.now() - started;
  const redisReads = (await streamReads(redis)) - readsBefore;
  for (const stream of resumed) stream.close();
  await pool.close();
  return { streams: options.streams, chats: options.chats, redisReads, readsPerChat: redisReads / options.chats, resumeMs };
}
