import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { waitFor } from "./wait.js";

const root = fileURLToPath(new URL("../../", import.meta.url));
const mains = {
  edge: `${root}services/edge/dist/main.js`,
  message: `${root}services/message/dist/main.js`,
} as const;
const instrumentation = {
  edge: `${root}services/edge/dist/instrumentation.js`,
  message: `${root}services/message/dist/instrumentation.js`,
} as const;
const listeningLine = { edge: "edge listening", message: "message service listening" } as const;

/** A built service running as its own node process, with its log lines collected. */
export interface ServiceProcess {
  readonly url: string;
  /** URL of the service's Prometheus endpoint, http://host:port/metrics. */
  readonly metricsUrl: string;
  readonly process: ChildProcess;
  /** Every JSON log line printed so far, parsed. */
  readonly logs: Record<string, unknown>[];
  /** Everything printed to stderr so far. */
  stderr(): string;
  /** Sends `signal` and resolves with the exit code once the process has ended. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export interface Exited {
  readonly code: number | null;
  readonly stderr: string;
}

function launch(service: keyof typeof mains, env: Record<string, string>) {
  // Started as deployed: tracing loaded with --import before the service.
  const child = spawn(process.execPath, ["--import", instrumentation[service], mains[service]], {
    env: { PATH: process.env.PATH ?? "", PORT: "0", METRICS_PORT: "0", HOST: "127.0.0.1", LOG_LEVEL: "info", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const logs: Record<string, unknown>[] = [];
  let stderr = "";
  let pending = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    pending += chunk;
    const lines = pending.split("\n");
    pending = lines.pop() ?? "";
    for (const line of lines) {
      try {
        logs.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        logs.push({ msg: line });
      }
    }
  });
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  const exit = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return { child, logs, stderr: () => stderr, exit };
}

/** Starts `services/<name>/dist/main.js` on a free port and waits until it listens. */
export async function startService(
  service: keyof typeof mains,
  env: Record<string, string> = {},
): Promise<ServiceProcess> {
  const { child, logs, stderr, exit } = launch(service, env);
  let ended = false;
  void exit.then(() => (ended = true));
  const url = await waitFor(`${service} to listen`, () => {
    if (ended) throw new Error(`${service} exited during startup: ${stderr()}`);
    const line = logs.find((entry) => entry.msg === listeningLine[service]);
    return line?.url as string | undefined;
  });
  const metricsUrl = String(logs.find((entry) => entry.msg === "metrics listening")?.url ?? "");
  return {
    url,
    metricsUrl,
    process: child,
    logs,
    stderr,
    async stop(signal = "SIGTERM") {
      if (!ended) child.kill(signal);
      return exit;
    },
  };
}

/** Runs a service expected to fail at startup; resolves with its exit code and stderr. */
export async function runUntilExit(
  service: keyof typeof mains,
  env: Record<string, string>,
  timeoutMs = 10_000,
): Promise<Exited> {
  const { child, stderr, exit } = launch(service, env);
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  const code = await exit;
  clearTimeout(timer);
  return { code, stderr: stderr() };
}

/** A message service and an edge in front of it, both real processes. */
export interface Stack {
  readonly edge: ServiceProcess;
  readonly message: ServiceProcess;
  stop(): Promise<void>;
}

export async function startStack(messageEnv: Record<string, string>, edgeEnv: Record<string, string> = {}): Promise<Stack> {
  const message = await startService("message", messageEnv);
  const edge = await startService("edge", { MESSAGE_SERVICE_URL: message.url, ...edgeEnv });
  return {
    edge,
    message,
    async stop() {
      await edge.stop();
      await message.stop();
    },
  };
}
