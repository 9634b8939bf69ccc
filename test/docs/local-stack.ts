import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { freePort } from "../harness/ports.js";
import { waitFor } from "../harness/wait.js";

export const repositoryRoot = fileURLToPath(new URL("../../", import.meta.url));

/** `make run` or `make run-auth` as a newcomer starts it, on free ports, with its output collected. */
export interface LocalStack {
  /** Where the documented ports (8080, 8081, 9464, 9465) are in this stack. */
  readonly ports: Readonly<Record<"8080" | "8081" | "9464" | "9465", number>>;
  readonly process: ChildProcess;
  output(): string;
  /** Signals make's whole process group, as Ctrl-C (SIGINT) or a supervisor (SIGTERM to make) would. */
  stop(signal: "SIGINT" | "SIGTERM", to: "group" | "make"): Promise<Stopped>;
}

export interface Stopped {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** Whether any process make started was still running once make had exited (it is then killed). */
  readonly leftOver: boolean;
}

/**
 * The environment of a fresh shell: nothing that would change the documented defaults, and
 * none of the variables of a surrounding `make test`.
 */
export function freshEnvironment(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of Object.keys(env)) {
    if (/^(MAKE|MFLAGS|AUTH_|REDIS_|OTEL_|LOG_|RATE_LIMIT_|RUN_|DEV_JWT)/.test(name)) delete env[name];
  }
  return env;
}

async function answers(url: string): Promise<boolean> {
  try {
    return (await fetch(url, { signal: AbortSignal.timeout(2_000) })).status === 200;
  } catch {
    return false;
  }
}

export async function startLocalStack(target: "run" | "run-auth", env: NodeJS.ProcessEnv = {}): Promise<LocalStack> {
  const ports = { "8080": await freePort(), "8081": await freePort(), "9464": await freePort(), "9465": await freePort() };
  // `-o build`: the recipe as make runs it, without its rebuild step (tests run on a built tree).
  const args = [
    "--no-print-directory",
    "-o",
    "build",
    target,
    `EDGE_PORT=${ports["8080"]}`,
    `MESSAGE_PORT=${ports["8081"]}`,
    `EDGE_METRICS_PORT=${ports["9464"]}`,
    `MESSAGE_METRICS_PORT=${ports["9465"]}`,
  ];
  // Its own process group, so a signal can reach make and everything it started, as Ctrl-C does.
  const child = spawn("make", args, { cwd: repositoryRoot, env: { ...freshEnvironment(), ...env }, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal })),
  );
  let ended = false;
  void exit.then(() => (ended = true));
  try {
    // Generous: two node processes start on a machine other tests keep busy.
    await waitFor(`make ${target} to answer`, async () => {
      if (ended) throw new Error(`make ${target} ended before it answered:\n${output}`);
      return (await answers(`http://127.0.0.1:${ports["8080"]}/readyz`)) && (await answers(`http://127.0.0.1:${ports["8081"]}/readyz`));
    }, { timeoutMs: 90_000, intervalMs: 200 });
  } catch (error) {
    if (!ended) process.kill(-child.pid!, "SIGKILL");
    throw error;
  }
  return {
    ports,
    process: child,
    output: () => output,
    async stop(signal, to) {
      if (!ended) process.kill(to === "group" ? -child.pid! : child.pid!, signal);
      const result = await exit;
      let leftOver = true;
      try {
        process.kill(-child.pid!, "SIGKILL");
      } catch {
        leftOver = false; // no such process group: everything make started has exited
      }
      return { ...result, leftOver };
    },
  };
}
