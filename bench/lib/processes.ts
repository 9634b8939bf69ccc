import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { freePort } from "../../test/harness/ports.js";
import { waitFor } from "../../test/harness/wait.js";
import { exportsToSink, productionEnv, type Variant } from "./variants.js";

const root = fileURLToPath(new URL("../../", import.meta.url));
const scripts = {
  edge: `${root}services/edge/dist/main.js`,
  message: `${root}services/message/dist/main.js`,
  baseline: `${root}bench/baseline/server.mjs`,
} as const;
const instrumentation = {
  edge: `${root}services/edge/dist/instrumentation.js`,
  message: `${root}services/message/dist/instrumentation.js`,
} as const;

/** One measured node process, started at production settings on a loopback port. */
export interface NodeProcess {
  readonly role: "edge" | "message" | "baseline";
  readonly pid: number;
  readonly url: string;
  /** The exact command line, for the results file. */
  readonly argv: readonly string[];
  stop(): Promise<void>;
}

/** The processes of one variant, keyed by role. */
export interface VariantProcesses {
  readonly variant: Variant;
  /** Where the load goes: the edge, or the baseline. */
  readonly url: string;
  readonly processes: readonly NodeProcess[];
  stop(): Promise<void>;
}

function tail(text: string, lines = 20): string {
  return text.split("\n").slice(-lines).join("\n");
}

/** Stops gracefully (SIGTERM, so --cpu-prof profiles get written), SIGKILL after 15 s. */
function stopper(child: ChildProcess, exited: Promise<void>): () => Promise<void> {
  return async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
    await exited;
    clearTimeout(timer);
  };
}

/**
 * Starts a node script with LOG_LEVEL=warn and NODE_ENV=production. Startup is detected by
 * polling GET /readyz (the info-level "listening" line is not printed at warn).
 */
async function startNode(
  role: NodeProcess["role"],
  nodeArgs: readonly string[],
  env: Record<string, string>,
): Promise<NodeProcess> {
  const port = await freePort();
  const argv = [...nodeArgs, scripts[role]];
  const child = spawn(process.execPath, argv, {
    env: { PATH: process.env.PATH ?? "", HOST: "127.0.0.1", ...productionEnv, ...env, PORT: String(port) },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const collect = (chunk: string) => (output = tail(output + chunk, 50));
  child.stdout?.setEncoding("utf8").on("data", collect);
  child.stderr?.setEncoding("utf8").on("data", collect);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitFor(
      `${role} on port ${port} to be ready`,
      async () => {
        if (child.exitCode !== null) throw new Error(`${role} exited during startup:\n${tail(output)}`);
        const response = await fetch(`${url}/readyz`);
        await response.arrayBuffer();
        return response.status === 200;
      },
      { timeoutMs: 20_000, intervalMs: 50 },
    );
  } catch (error) {
    child.kill("SIGKILL");
    throw new Error(`${role} did not become ready:\n${tail(output)}`, { cause: error });
  }
  return { role, pid: child.pid ?? -1, url, argv: [process.execPath, ...argv], stop: stopper(child, exited) };
}

function deployedNodeArgs(service: "edge" | "message", variant: Variant): string[] {
  if (!variant.instrumentation) return [];
  if (existsSync(instrumentation[service])) return ["--import", instrumentation[service]];
  if (variant.env.OTEL_SDK_DISABLED === "false") {
    throw new Error(`variant ${variant.name} wants tracing, but ${instrumentation[service]} is not built`);
  }
  return [];
}

/** The variant's environment for every process, the bench's OTLP sink put in where it names it. */
function variantEnv(variant: Variant, otlpSinkUrl: string | undefined): Record<string, string> {
  if (!exportsToSink(variant)) return { ...variant.env };
  if (otlpSinkUrl === undefined) throw new Error(`variant ${variant.name} exports spans, but the bench started no OTLP sink`);
  return { ...variant.env, OTEL_EXPORTER_OTLP_ENDPOINT: otlpSinkUrl };
}

export async function startVariant(variant: Variant, redisUrl: string, otlpSinkUrl?: string): Promise<VariantProcesses> {
  const env = variantEnv(variant, otlpSinkUrl);
  if (variant.kind === "baseline") {
    const baseline = await startNode("baseline", variant.nodeArgs, { ...env, REDIS_URL: redisUrl });
    return { variant, url: baseline.url, processes: [baseline], stop: baseline.stop };
  }
  // Metrics ports default to fixed numbers; 0 lets several stacks run side by side.
  const message = await startNode(
    "message",
    [...deployedNodeArgs("message", variant), ...variant.nodeArgs, ...variant.messageNodeArgs],
    { METRICS_PORT: "0", ...env, ...variant.messageEnv, REDIS_URL: redisUrl },
  );
  const edge = await startNode(
    "edge",
    [...deployedNodeArgs("edge", variant), ...variant.nodeArgs, ...variant.edgeNodeArgs],
    // MAX_STREAMS: the live scenario holds more streams than the default 10,000 at times.
    { METRICS_PORT: "0", MAX_STREAMS: "20000", ...env, ...variant.edgeEnv, MESSAGE_SERVICE_URL: message.url },
  ).catch(async (error: unknown) => {
    await message.stop();
    throw error;
  });
  return {
    variant,
    url: edge.url,
    processes: [edge, message],
    async stop() {
      await edge.stop();
      await message.stop();
    },
  };
}
