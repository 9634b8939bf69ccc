import { Pool } from "undici";
import type { RequestShape } from "./load.js";
import { latencySummary, Samples } from "./stats.js";

export interface OpenLoad {
  readonly url: string;
  readonly method: "GET" | "POST";
  readonly request: (n: number) => RequestShape;
  /** Requests per second, on a fixed schedule whatever the answers do. */
  readonly rate: number;
  readonly durationS: number;
  /** Most connections opened; requests beyond them queue (and that wait counts). */
  readonly maxConnections: number;
}

export interface OpenLoadResult {
  readonly scheduled: number;
  readonly completed: number;
  /** Answers per second over the run, for comparison with the asked rate. */
  readonly throughput: number;
  readonly errors: number;
  readonly non2xx: number;
  /** Requests still unanswered 10 s after the schedule ended; counted in the latencies as lower bounds. */
  readonly timeouts: number;
  /** Worst lateness of the scheduler itself; it is part of every latency below. */
  readonly maxDispatchLagMs: number;
  /** From each request's scheduled send time to its full answer, in ms. */
  readonly latencyMs: { p50: number; p90: number; p99: number; max: number };
}

const nowMs = () => performance.now();

/**
 * An open-loop sender: request i is due at start + i/rate, and its latency is measured from
 * that due time, not from when a connection became free, so a slow answer cannot hide the
 * queueing it causes (no coordinated omission). autocannon's overallRate is not that: it
 * releases each connection's quota in a burst at every second boundary and "corrects" with an
 * expected interval of Math.ceil(1 / rate) ms, i.e. always 1 ms.
 */
export async function openLoop(load: OpenLoad): Promise<OpenLoadResult> {
  const pool = new Pool(load.url, { connections: load.maxConnections, pipelining: 1 });
  const total = Math.round(load.rate * load.durationS);
  const intervalMs = 1000 / load.rate;
  const samples = new Samples(total);
  const pending = new Map<number, number>(); // request index → due time, until answered
  let errors = 0;
  let non2xx = 0;
  let maxLagMs = 0;
  let sent = 0;

  const fire = (index: number, dueMs: number) => {
    const shape = load.request(index);
    pending.set(index, dueMs);
    void pool
      .request({
        method: load.method,
        path: shape.path,
        headers: load.method === "POST" ? { "content-type": "application/json" } : {},
        ...(shape.body === undefined ? {} : { body: shape.body }),
      })
      .then(async (response) => {
        await response.body.dump();
        if (!pending.delete(index)) return; // already counted as a timeout
        if (response.statusCode >= 200 && response.statusCode < 300) samples.push(nowMs() - dueMs);
        else non2xx++;
      })
      .catch(() => {
        if (pending.delete(index)) errors++;
      });
  };

  const start = nowMs() + 5;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = nowMs();
      while (sent < total && start + sent * intervalMs <= now) {
        const dueMs = start + sent * intervalMs;
        maxLagMs = Math.max(maxLagMs, now - dueMs);
        fire(sent, dueMs);
        sent++;
      }
      if (sent >= total) resolve();
      else setTimeout(tick, Math.max(0, Math.min(1, start + sent * intervalMs - nowMs())));
    };
    tick();
  });
  // Bounded drain: what has not answered 10 s after the schedule ended counts as a timeout,
  // with the time waited so far as its latency (a lower bound), so it still weighs on p99.
  const drainDeadline = nowMs() + 10_000;
  while (pending.size > 0 && nowMs() < drainDeadline) await new Promise((resolve) => setTimeout(resolve, 10));
  const cutoff = nowMs();
  const timeouts = pending.size;
  for (const dueMs of pending.values()) samples.push(cutoff - dueMs);
  pending.clear();
  const elapsedS = (cutoff - start) / 1000;
  await pool.destroy();
  return {
    scheduled: total,
    completed: samples.length - timeouts,
    throughput: (samples.length - timeouts) / elapsedS,
    errors,
    non2xx,
    timeouts,
    maxDispatchLagMs: maxLagMs,
    latencyMs: latencySummary(samples.toArray()),
  };
}
