import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import * as os from "node:os";
import type { Redis } from "ioredis";

export interface MachineInfo {
  readonly cpuModel: string;
  readonly cores: number;
  readonly memoryGiB: number;
  readonly kernel: string;
  readonly nodeVersion: string;
  readonly redisVersion: string;
  readonly autocannonVersion: string;
  /** "" when wrk is not installed. */
  readonly wrkVersion: string;
  readonly loadAverageAtStart: readonly number[];
}

function cpuModel(): string {
  try {
    const match = /^model name\s*:\s*(.+)$/m.exec(readFileSync("/proc/cpuinfo", "utf8"));
    if (match?.[1]) return match[1].trim();
  } catch {
    // not Linux: fall through
  }
  return os.cpus()[0]?.model ?? "unknown";
}

function wrkVersion(): string {
  try {
    return execFileSync("wrk", ["-v"], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).split("\n")[0] ?? "";
  } catch (error) {
    // wrk -v prints its banner and exits 1
    const stdout = (error as { stdout?: string }).stdout ?? "";
    return /^wrk (\S+)/.exec(stdout)?.[1] ?? "";
  }
}

export async function machineInfo(redis: Redis): Promise<MachineInfo> {
  const server = await redis.info("server");
  const require = createRequire(import.meta.url);
  const autocannon = require("autocannon/package.json") as { version: string };
  return {
    cpuModel: cpuModel(),
    cores: os.availableParallelism(),
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    kernel: `${os.type()} ${os.release()}`,
    nodeVersion: process.version,
    redisVersion: /^redis_version:(\S+)/m.exec(server)?.[1] ?? "unknown",
    autocannonVersion: autocannon.version,
    wrkVersion: wrkVersion(),
    loadAverageAtStart: os.loadavg().map((load) => Math.round(load * 100) / 100),
  };
}
