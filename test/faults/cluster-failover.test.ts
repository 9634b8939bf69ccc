import { afterAll, beforeAll, expect, it } from "vitest";
import { chatKeys } from "../../services/message/src/store/redis/keys.js";
import { startRedis, startRedisCluster, type RedisCluster, type RedisServer } from "../harness/redis.js";
import { startStack, type Stack } from "../harness/services.js";
import { waitFor } from "../harness/wait.js";
import { uniqueChat } from "../support/ids.js";
import { pullAll, waitForStored, steadySends, tally } from "./steady-load.js";

let cluster: RedisCluster;
let stack: Stack;

beforeAll(async () => {
  // A cluster of its own: this test kills one of its masters.
  cluster = await startRedisCluster();
  stack = await startStack({
    REDIS_CLUSTER_NODES: cluster.seeds,
    REDIS_WAIT_REPLICAS: "1",
    REDIS_WAIT_TIMEOUT_MS: "500",
  });
});
afterAll(async () => {
  await stack?.stop();
  await cluster?.stop();
});

/** The node that currently serves `slot` as master, as `node` sees the cluster. */
async function masterOf(slot: number, node: RedisServer): Promise<number> {
  const shards = await node.cli("cluster", "nodes");
  for (const line of shards.split("\n")) {
    const fields = line.split(" ");
    if (!fields[2]?.includes("master") || fields[2].includes("fail")) continue;
    for (const range of fields.slice(8)) {
      const [from, to = from] = range.split("-").map(Number);
      if (slot >= from! && slot <= to!) return Number(fields[1]!.split(":")[1]!.split("@")[0]);
    }
  }
  return 0;
}

it("loses no acknowledged message when the hot chat's master fails over", { timeout: 120_000 }, async () => {
  const { chat, a } = uniqueChat();
  const slot = Number(await cluster.nodes[0]!.cli("cluster", "keyslot", chatKeys(chat).messages));
  const oldMasterPort = await masterOf(slot, cluster.nodes[0]!);
  const oldMaster = cluster.nodes.find((node) => node.port === oldMasterPort)!;
  const survivor = cluster.nodes.find((node) => node !== oldMaster)!;

  let phase: "before" | "failing" | "after" = "before";
  const ackedAfterRecovery: number[] = [];
  let afterSince = 0;
  const load = steadySends({
    baseUrl: () => stack.edge.url,
    chat,
    sender: a,
    concurrency: 16,
    maxMessages: 20_000,
    done: () => phase === "after" && Date.now() - afterSince > 3_000,
  });

  // Steady traffic first, then SIGKILL the master that owns the hot chat's slot.
  await waitForStored(stack.edge.url, chat, 200, load);
  oldMaster.process.kill("SIGKILL");
  phase = "failing";
  const failedAt = Date.now();
  await waitFor("a replica to take over the slot", async () => {
    const port = await masterOf(slot, survivor);
    return port !== 0 && port !== oldMasterPort;
  }, { timeoutMs: 30_000, intervalMs: 100 });
  const failoverMs = Date.now() - failedAt;
  // As Kubernetes would, restart the killed node in place: it rejoins as the new master's
  // replica. Until then its shard has no replica to confirm writes, so with
  // REDIS_WAIT_REPLICAS=1 sends to it are refused (503) rather than acknowledged unsafely.
  const restarted = await startRedis({ clusterEnabled: true, port: oldMaster.port, dir: oldMaster.dir });
  await waitFor("the restarted node to replicate the new master", async () =>
    /role:slave[\s\S]*master_link_status:up/.test(await restarted.cli("info", "replication")),
  { timeoutMs: 30_000, intervalMs: 100 });
  const recoveredMs = Date.now() - failedAt;
  const before = (await pullAll(stack.edge.url, chat)).length;
  phase = "after";
  afterSince = Date.now();

  const records = await load;
  const stored = await pullAll(stack.edge.url, chat);
  ackedAfterRecovery.push(stored.length - before);
  const counts = tally(records, stored);
  console.log("cluster failover:", JSON.stringify({ ...counts, unexpectedStatuses: counts.unexpectedStatuses.length, failoverMs, recoveredMs, storedAfterRecovery: ackedAfterRecovery[0] }));
  await restarted.stop();

  expect(counts.lost).toBe(0);
  expect(counts.duplicated).toBe(0);
  expect(counts.wrongSendTime).toBe(0);
  expect(counts.outOfOrder).toBe(0);
  expect(counts.unexpectedStatuses).toEqual([]);
  expect(counts.acknowledged).toBe(counts.sent);
  // Traffic recovered: messages kept being stored after the failover.
  expect(ackedAfterRecovery[0]).toBeGreaterThan(50);
});
