import { execFile, spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { freePort } from "./ports.js";
import { waitFor } from "./wait.js";

const run = promisify(execFile);

/** One redis-server process on a loopback port, with its data in a temporary folder. */
export interface RedisServer {
  readonly host: string;
  readonly port: number;
  readonly url: string;
  /** Its data folder (with nodes.conf for a cluster node), to restart it in place. */
  readonly dir: string;
  readonly process: ChildProcess;
  /** Runs redis-cli against this server and returns its output. */
  cli(...args: string[]): Promise<string>;
  stop(): Promise<void>;
}

export interface RedisCluster {
  readonly nodes: readonly RedisServer[];
  /** "host:port,host:port,..." as REDIS_CLUSTER_NODES expects. */
  readonly seeds: string;
  stop(): Promise<void>;
}

const clusterBusOffset = 10_000;

export async function redisCli(port: number, ...args: string[]): Promise<string> {
  const { stdout } = await run("redis-cli", ["-h", "127.0.0.1", "-p", String(port), ...args]);
  return stdout.trim();
}

export async function assertRedisInstalled(): Promise<void> {
  try {
    await run("redis-server", ["--version"]);
    await run("redis-cli", ["--version"]);
  } catch {
    throw new Error(
      "redis-server and redis-cli are needed by the tests: `apt-get install -y redis-server redis-tools` (Debian/Ubuntu) or `brew install redis` (macOS)",
    );
  }
}

export interface StartRedisOptions {
  /** Make it a (not yet joined) cluster node. */
  readonly clusterEnabled?: boolean;
  /** A port to reuse (to restart a stopped server); a free one by default. */
  readonly port?: number;
  /** A data folder to reuse, kept on stop; a new temporary one (removed on stop) by default. */
  readonly dir?: string;
  /** Keep every acknowledged write on disk (appendonly, fsync always), to survive a kill. */
  readonly durable?: boolean;
}

/** Starts redis-server on a free loopback port. */
export async function startRedis(options: StartRedisOptions = {}): Promise<RedisServer> {
  const port = options.port ?? (await freePort(options.clusterEnabled ? [clusterBusOffset] : []));
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), `chat-redis-${port}-`));
  const persistence = options.durable ? ["--appendonly", "yes", "--appendfsync", "always"] : ["--appendonly", "no"];
  const args = ["--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--save", "", ...persistence];
  if (options.clusterEnabled) {
    args.push("--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "1000");
  }
  const child = spawn("redis-server", args, { stdio: ["ignore", "ignore", "inherit"] });
  let exited = false;
  child.once("exit", () => (exited = true));
  await waitFor(`redis-server on port ${port}`, async () => {
    if (exited) throw new Error(`redis-server on port ${port} exited`);
    return (await redisCli(port, "ping")) === "PONG";
  });
  return {
    host: "127.0.0.1",
    port,
    url: `redis://127.0.0.1:${port}`,
    dir,
    process: child,
    cli: (...cliArgs) => redisCli(port, ...cliArgs),
    async stop() {
      if (!exited) {
        const gone = new Promise((resolve) => child.once("exit", resolve));
        child.kill("SIGKILL");
        await gone;
      }
      if (!options.dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Starts `count` cluster-enabled redis-server processes that do not know each other yet. */
export async function startClusterNodes(count: number): Promise<RedisServer[]> {
  const nodes: RedisServer[] = [];
  for (let i = 0; i < count; i++) nodes.push(await startRedis({ clusterEnabled: true }));
  return nodes;
}

/** Waits until every node reports a healthy cluster with all 16384 slots served. */
export async function waitForClusterOk(nodes: readonly RedisServer[], timeoutMs = 20_000): Promise<void> {
  await waitFor(
    "redis cluster state ok on every node",
    async () => {
      const infos = await Promise.all(nodes.map((node) => node.cli("cluster", "info")));
      return infos.every((info) => info.includes("cluster_state:ok") && info.includes("cluster_slots_ok:16384"));
    },
    { timeoutMs, intervalMs: 100 },
  );
}

/** A real 6-node Redis Cluster (3 masters, 3 replicas) on loopback. */
export async function startRedisCluster(): Promise<RedisCluster> {
  const nodes = await startClusterNodes(6);
  await run("redis-cli", [
    "--cluster", "create",
    ...nodes.map((node) => `${node.host}:${node.port}`),
    "--cluster-replicas", "1",
    "--cluster-yes",
  ]);
  await waitForClusterOk(nodes);
  return {
    nodes,
    seeds: nodes.map((node) => `${node.host}:${node.port}`).join(","),
    async stop() {
      await Promise.all(nodes.map((node) => node.stop()));
    },
  };
}
