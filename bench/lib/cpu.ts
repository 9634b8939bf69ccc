import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";

function clockTicksPerSecond(): number {
  try {
    const ticks = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim());
    return Number.isFinite(ticks) && ticks > 0 ? ticks : 100;
  } catch {
    return 100;
  }
}

export const ticksPerSecond = clockTicksPerSecond();

/**
 * CPU seconds (user + system, all threads) a process has used so far, from /proc/<pid>/stat;
 * NaN when it cannot be read (not Linux, or the process is gone).
 */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name, which is in parentheses and may itself contain spaces.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    return (utime + stime) / ticksPerSecond;
  } catch {
    return Number.NaN;
  }
}

/** CPU seconds of this process (the load generator runs here). */
export function ownCpuSeconds(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1e6;
}

export type CpuRoles = Record<string, number>;

/** Starts a CPU measurement of the named pids; the returned function gives seconds used since. */
export function measureCpu(pids: Readonly<Record<string, number>>): () => CpuRoles {
  const before = Object.fromEntries(Object.entries(pids).map(([role, pid]) => [role, cpuSeconds(pid)]));
  const loadgenBefore = ownCpuSeconds();
  return () => {
    const used: CpuRoles = {};
    const millis = (seconds: number) => Math.round(seconds * 1000) / 1000;
    for (const [role, pid] of Object.entries(pids)) used[role] = millis(cpuSeconds(pid) - (before[role] ?? Number.NaN));
    used.loadgen = millis(ownCpuSeconds() - loadgenBefore);
    return used;
  };
}
