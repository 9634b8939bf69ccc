import { spawn, type ChildProcess } from "node:child_process";
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../harness/ports.js";
import { redisCli } from "../harness/redis.js";
import { waitFor } from "../harness/wait.js";
import { render, type Manifest } from "./helm.js";
import { bootstrapCluster, clusterNodes, scriptsDir, settled } from "./redis-cluster.js";

const run = promisify(execFile);
const password = 'pa"ss\\word with spaces';
const auth = ["--no-auth-warning", "-a", password];

interface Node {
  readonly port: number;
  readonly dir: string;
  readonly process: ChildProcess;
}

/**
 * Starts redis-server the way a pod of the StatefulSet does: sh start-node.sh with the
 * rendered redis.conf, moved to a temporary folder and a free loopback port.
 */
async function startNode(redisConf: string, startScript: string): Promise<Node> {
  const port = await freePort([10_000]);
  const dir = mkdtempSync(join(tmpdir(), "chat-redis-node-"));
  const conf = redisConf
    .replace(/^dir \/data$/m, `dir ${dir}`)
    .replace("/data/nodes.conf", join(dir, "nodes.conf"))
    .replace("/run/redis/runtime.conf", join(dir, "runtime.conf"));
  // Later lines win: a loopback port instead of 6379 on every interface, a short node timeout.
  writeFileSync(join(dir, "redis.conf"), `${conf}\nport ${port}\ncluster-port ${port + 10_000}\nbind 127.0.0.1\ncluster-node-timeout 1000\n`);
  writeFileSync(join(dir, "start-node.sh"), startScript);
  const child = spawn("sh", [join(dir, "start-node.sh")], {
    env: {
      PATH: process.env.PATH ?? "",
      REDIS_PASSWORD: password,
      REDIS_ANNOUNCE_HOSTNAME: "localhost",
      REDIS_CONF: join(dir, "redis.conf"),
      RUNTIME_CONF: join(dir, "runtime.conf"),
      NODES_CONF: join(dir, "nodes.conf"),
    },
    stdio: ["ignore", "ignore", "inherit"],
  });
  await waitFor(`redis node on ${port}`, async () => (await redisCli(port, ...auth, "ping")) === "PONG");
  return { port, dir, process: child };
}

describe("a Redis Cluster node started as the chart starts it", () => {
  let configMap: Record<string, string>;
  let nodes: Node[] = [];

  beforeAll(async () => {
    const manifests = await render();
    configMap = (manifests.find((m) => m.kind === "ConfigMap" && m.metadata.name === "chat-redis-cluster") as Manifest & {
      data: Record<string, string>;
    }).data;
    nodes = await Promise.all(Array.from({ length: 6 }, () => startNode(configMap["redis.conf"]!, configMap["start-node.sh"]!)));
  });

  afterAll(async () => {
    await Promise.all(
      nodes.map(async (node) => {
        if (node.process.exitCode === null) {
          const exited = new Promise((resolve) => node.process.once("exit", resolve));
          node.process.kill("SIGKILL");
          await exited;
        }
        rmSync(node.dir, { recursive: true, force: true });
      }),
    );
  });

  it("ships the chart's script files unchanged in its ConfigMap", () => {
    for (const file of ["start-node.sh", "bootstrap-cluster.sh"]) {
      expect(configMap[file]).toBe(readFileSync(join(scriptsDir, file), "utf8"));
    }
  });

  it("requires the password from the Secret, which the config file never holds", async () => {
    expect(configMap["redis.conf"]).not.toMatch(/^\s*(requirepass|masterauth)\b/m);
    expect(await redisCli(nodes[0]!.port, "ping")).toContain("NOAUTH");
    expect(await redisCli(nodes[0]!.port, ...auth, "config", "get", "cluster-announce-hostname")).toContain("localhost");
  });

  it("forms a cluster with the bootstrap script and the password, and redirects clients by hostname", async () => {
    const result = await bootstrapCluster(
      nodes.map((node) => `127.0.0.1:${node.port}`),
      { REDIS_PASSWORD: password },
    );
    expect(result.code).toBe(0);
    await waitFor(
      "a settled cluster",
      async () => (await Promise.all(nodes.map((node) => clusterNodes(node.port, password)))).every((view) => settled(view, 3, 1)),
      { timeoutMs: 20_000, intervalMs: 100 },
    );
    // Some key lives on another master: the answer names that master by hostname, not IP.
    const moved = await waitFor("a MOVED redirect once every node serves its slots", async () => {
      const replies = await Promise.all(["a", "b", "c", "d", "e", "f"].map((key) => redisCli(nodes[0]!.port, ...auth, "set", key, "1")));
      return replies.find((reply) => reply.startsWith("MOVED"));
    });
    expect(moved).toMatch(/^MOVED \d+ localhost:\d+$/);
  });

  it("stops cleanly on SIGTERM (exec'd redis-server is the process Kubernetes signals)", async () => {
    const node = nodes[5]!;
    const exited = new Promise<number | null>((resolve) => node.process.once("exit", (code) => resolve(code)));
    node.process.kill("SIGTERM");
    expect(await exited).toBe(0);
  });
});

describe("start-node.sh --refresh-only", () => {
  it("points peers at the address their hostname resolves to now, and leaves other lines alone", async () => {
    const dir = mkdtempSync(join(tmpdir(), "chat-nodes-conf-"));
    try {
      const file = join(dir, "nodes.conf");
      const localhost = (await run("getent", ["hosts", "localhost"])).stdout.split(/\s+/)[0]!;
      const lines = [
        "aaa 10.1.2.3:6379@16379,localhost slave bbb 0 1 3 connected",
        "bbb 10.1.2.4:6379@16379,localhost,tls-port=0,shard-id=s1 myself,master - 0 1 3 connected 0-16383 [5->-ccc]",
        "ccc 10.1.2.5:6379@16379,no-such-host.invalid slave bbb 0 1 3 connected",
        "ddd 10.1.2.6:6379@16379 slave bbb 0 1 3 connected",
        "vars currentEpoch 6 lastVoteEpoch 0",
      ];
      writeFileSync(file, `${lines.join("\n")}\n`);
      await run("sh", [join(scriptsDir, "start-node.sh"), "--refresh-only"], { env: { PATH: process.env.PATH ?? "", NODES_CONF: file } });
      expect(readFileSync(file, "utf8").split("\n").slice(0, 5)).toEqual([
        `aaa ${localhost}:6379@16379,localhost slave bbb 0 1 3 connected`,
        `bbb ${localhost}:6379@16379,localhost,tls-port=0,shard-id=s1 myself,master - 0 1 3 connected 0-16383 [5->-ccc]`,
        lines[2],
        lines[3],
        lines[4],
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
