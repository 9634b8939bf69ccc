import { rmSync } from "node:fs";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startRedis, type RedisServer } from "../harness/redis.js";
import { startStack, type ServiceProcess, type Stack } from "../harness/services.js";
import { waitFor } from "../harness/wait.js";
import { uniqueChat } from "../support/ids.js";
import { steadySends, waitForStored, type SendRecord } from "./steady-load.js";

let redis: RedisServer;
let stack: Stack;
// Each repeated failure is logged once per kind and interval; the rest are counted.
const intervalMs = 4_000;

beforeAll(async () => {
  redis = await startRedis({ durable: true });
  stack = await startStack({ REDIS_URL: redis.url, LOG_REPEAT_INTERVAL_MS: String(intervalMs) }, { LOG_REPEAT_INTERVAL_MS: String(intervalMs) });
});
afterAll(async () => {
  await stack?.stop();
  await redis?.stop();
  rmSync(redis?.dir ?? "", { recursive: true, force: true });
});

type LogLine = Record<string, unknown>;
const pinoWarn = 40;
/** Lines at warn level or above, from log position `from` on. */
const problems = (service: ServiceProcess, from: number) => service.logs.slice(from).filter((line) => Number(line.level) >= pinoWarn);
/** Occurrences a set of lines stands for: each full line one, each summary those it counted. */
const occurrences = (lines: LogLine[]) => lines.reduce((sum, line) => sum + Number(line.suppressed ?? 1), 0);
function byKind(lines: LogLine[]): Map<string, LogLine[]> {
  const kinds = new Map<string, LogLine[]>();
  for (const line of lines) kinds.set(String(line.repeat_kind), [...(kinds.get(String(line.repeat_kind)) ?? []), line]);
  return kinds;
}

it("logs a Redis outage under steady load in a bounded number of lines, the first of each kind with its cause", { timeout: 90_000 }, async () => {
  const { chat, a } = uniqueChat();
  let outageOver = false;
  let phaseSince = Date.now();
  const load = steadySends({
    baseUrl: () => stack.edge.url,
    chat,
    sender: a,
    concurrency: 8,
    maxMessages: 50_000,
    maxAttempts: 3,
    retryPauseMs: 20,
    done: () => outageOver && Date.now() - phaseSince > 1_000,
  });
  await waitForStored(stack.edge.url, chat, 100, load);
  const from = { edge: stack.edge.logs.length, message: stack.message.logs.length };

  const { port, dir } = redis;
  redis.process.kill("SIGKILL");
  await waitFor("readiness to fail", async () => (await fetch(`${stack.message.url}/readyz`)).status === 503);
  await new Promise((resolve) => setTimeout(resolve, 3_000)); // the outage itself, not a readiness wait
  redis = await startRedis({ port, dir, durable: true });
  await waitFor("readiness to recover", async () => (await fetch(`${stack.message.url}/readyz`)).status === 200, { timeoutMs: 20_000, intervalMs: 100 });
  outageOver = true;
  phaseSince = Date.now();
  const records = await load;

  // Every 5xx the clients saw was one logged occurrence at the edge: once the last summary
  // is out (at most one interval after the last failure), the lines account for all of them.
  const failedAttempts = records.flatMap((record: SendRecord) => record.attempts).filter((status) => typeof status === "number" && status >= 500).length;
  expect(failedAttempts).toBeGreaterThan(20);
  await waitFor("the edge's last summary", () => occurrences(problems(stack.edge, from.edge)) === failedAttempts, { timeoutMs: intervalMs * 3 });

  const lines = { edge: problems(stack.edge, from.edge), message: problems(stack.message, from.message) };
  console.log("log lines at warn or above during a 3 s Redis outage:", JSON.stringify({
    failedAttempts,
    edge: { lines: lines.edge.length, occurrences: occurrences(lines.edge), kinds: [...byKind(lines.edge).keys()] },
    message: { lines: lines.message.length, occurrences: occurrences(lines.message), kinds: [...byKind(lines.message).keys()] },
  }));
  for (const service of ["edge", "message"] as const) {
    const kinds = byKind(lines[service]);
    expect(kinds.size, service).toBeGreaterThan(0);
    // One line when a kind first fails, then at most one summary per interval while it repeats.
    expect(lines[service].length, service).toBeLessThanOrEqual(kinds.size * 4);
    for (const [kind, [first, ...rest]] of kinds) {
      expect((first!.err as { stack?: string } | undefined)?.stack, `${service} ${kind}`).toMatch(/\n\s+at /);
      for (const summary of rest) expect(summary.suppressed, `${service} ${kind}`).toBeGreaterThan(0);
    }
  }
  expect(occurrences(lines.message)).toBeGreaterThan(lines.message.length);
});
