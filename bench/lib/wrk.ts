import { execFile, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { ticksPerSecond } from "./cpu.js";
import type { ClosedLoad, LoadResult } from "./load.js";

/** True when a wrk binary is on the PATH. */
export async function wrkInstalled(): Promise<boolean> {
  try {
    await promisify(execFile)("wrk", ["--version"]);
    return true;
  } catch (error) {
    // wrk --version prints its banner and exits 1; a missing binary is ENOENT.
    return (error as NodeJS.ErrnoException).code !== "ENOENT";
  }
}

const luaString = (value: string) => `"${value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`;

/**
 * A wrk script that cycles through the given requests (each thread from its own offset, so
 * the threads do not send the same chat at once) and prints one JSON line when done.
 */
function script(load: ClosedLoad, distinct: number): string {
  const shapes = Array.from({ length: distinct }, (_, n) => load.request(n));
  const entries = shapes.map((shape) =>
    `wrk.format(${luaString(load.method)}, ${luaString(shape.path)}, headers, ${shape.body === undefined ? "nil" : luaString(shape.body)})`,
  );
  return `
local headers = ${load.method === "POST" ? '{ ["Content-Type"] = "application/json" }' : "{}"}
local requests = nil
local count = ${distinct}
local index = 0
local next_offset = 0

function setup(thread)
  thread:set("offset", next_offset)
  next_offset = next_offset + ${Math.max(1, Math.floor(distinct / 2))}
end

function init(args)
  requests = { ${entries.join(",\n  ")} }
  index = offset or 0
end

function request()
  index = index + 1
  return requests[(index % count) + 1]
end

function done(summary, latency, _)
  local e = summary.errors
  io.write(string.format(
    '{"requests":%.0f,"duration_us":%.0f,"connect":%.0f,"read":%.0f,"write":%.0f,"status":%.0f,"timeout":%.0f,' ..
    '"p50":%.0f,"p90":%.0f,"p99":%.0f,"max":%.0f}\\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
`;
}

// Runs wrk under a shell that then prints its own /proc stat: fields 16 and 17 (cutime,
// cstime) are the CPU of the children it has waited for, i.e. exactly wrk's.
const wrapper = 'wrk "$@"; status=$?; echo "SHELLSTAT $(cat /proc/$$/stat)"; exit $status';

function childCpuSeconds(stdout: string): number {
  const line = stdout.split("\n").find((candidate) => candidate.startsWith("SHELLSTAT "));
  if (!line) return Number.NaN;
  const fields = line.slice(line.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[13]) + Number(fields[14])) / ticksPerSecond;
}

/**
 * The same closed loop as autocannon's, driven by wrk (C: far less CPU per request, so the
 * load generator takes less of the machine from the servers). Requests cycle over the first
 * `distinct` shapes of load.request.
 */
export async function wrkClosedLoop(load: ClosedLoad, distinct: number): Promise<LoadResult> {
  const dir = mkdtempSync(join(tmpdir(), "chat-bench-wrk-"));
  const scriptFile = join(dir, "load.lua");
  writeFileSync(scriptFile, script(load, distinct));
  try {
    const threads = Math.min(2, load.connections);
    const args = [`-t${threads}`, `-c${load.connections}`, `-d${load.durationS}s`, "--timeout", "10s", "-s", scriptFile, load.url];
    const child = spawn("sh", ["-c", wrapper, "sh", ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
    const line = stdout.split("\n").find((candidate) => candidate.startsWith('{"requests"'));
    if (code !== 0 || !line) throw new Error(`wrk failed (exit ${code}): ${stderr}${stdout}`);
    const result = JSON.parse(line) as Record<string, number>;
    const get = (key: string) => result[key] ?? 0;
    const durationS = get("duration_us") / 1e6;
    const failed = get("connect") + get("read") + get("write") + get("timeout");
    const ok = get("requests") - get("status");
    return {
      throughput: ok / durationS,
      requests: ok,
      errors: failed,
      non2xx: get("status"),
      durationS,
      latencyMs: { p50: get("p50") / 1000, p90: get("p90") / 1000, p99: get("p99") / 1000, max: get("max") / 1000 },
      loadgenCpuSeconds: childCpuSeconds(stdout),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
