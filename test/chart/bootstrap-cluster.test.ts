import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startClusterNodes, startRedis, waitForClusterOk, type RedisServer } from "../harness/redis.js";
import { waitFor } from "../harness/wait.js";
import { bootstrapCluster, clusterNodes, settled, shape, type ScriptRun } from "./redis-cluster.js";

describe("files/bootstrap-cluster.sh against six local redis-server nodes", () => {
  let nodes: RedisServer[] = [];
  // Names as the Job passes them: a mix of hostnames and IPs, comma- or space-separated.
  const addresses = () => nodes.map((node, i) => `${i < 2 ? "localhost" : node.host}:${node.port}`);
  const everyNodeSettled = () =>
    waitFor(
      "every node to see 3 masters with 1 replica each",
      async () => (await Promise.all(nodes.map((node) => clusterNodes(node.port)))).every((view) => settled(view, 3, 1)),
      { timeoutMs: 20_000, intervalMs: 100 },
    );

  // The first run of the script on the empty nodes, made once by whichever test needs the
  // cluster first, so each test also runs on its own.
  let creation: Promise<ScriptRun> | undefined;
  const createCluster = () =>
    (creation ??= (async () => {
      const result = await bootstrapCluster([addresses().slice(0, 3).join(","), ...addresses().slice(3)], { REDIS_CLUSTER_REPLICAS: "1" });
      if (result.code === 0) {
        await waitForClusterOk(nodes);
        await everyNodeSettled();
      }
      return result;
    })());
  const healthyCluster = async () => expect((await createCluster()).code, "creating the cluster").toBe(0);

  beforeAll(async () => {
    nodes = await startClusterNodes(6);
  });
  afterAll(async () => {
    await Promise.all(nodes.map((node) => node.stop()));
  });

  it("creates a cluster of 3 masters and 3 replicas from empty nodes", async () => {
    const result = await createCluster();
    expect(result.stderr).toContain("creating it");
    expect(result.code).toBe(0);
    await waitForClusterOk(nodes);
    await everyNodeSettled();
  });

  it("changes nothing when run again on the healthy cluster", async () => {
    await healthyCluster();
    const before = await Promise.all(nodes.map((node) => clusterNodes(node.port).then(shape)));
    const result = await bootstrapCluster(addresses());
    expect(result.code).toBe(0);
    expect(result.stderr).toContain("nothing to do");
    const after = await Promise.all(nodes.map((node) => clusterNodes(node.port).then(shape)));
    expect(after).toEqual(before);
    expect(new Set(after.map((view) => view.join("\n"))).size).toBe(1); // every node agrees
  });

  it("replaces a node that came back empty: forgets the old id and adds the new node as a replica", async () => {
    await healthyCluster();
    const view = await clusterNodes(nodes[0]!.port);
    const replica = view.find((node) => node.flags.includes("slave"))!;
    const index = nodes.findIndex((node) => `${node.host}:${node.port}` === replica.address);
    const port = nodes[index]!.port;
    await nodes[index]!.stop();
    nodes[index] = await startRedis({ clusterEnabled: true, port });

    const result = await bootstrapCluster(addresses());
    expect(result.stderr).toContain(`forgetting replaced node ${replica.id}`);
    expect(result.stderr).toContain("adding empty node");
    expect(result.code).toBe(0);
    await everyNodeSettled();
    for (const node of nodes) {
      expect((await clusterNodes(node.port)).map((n) => n.id)).not.toContain(replica.id);
    }
    expect((await bootstrapCluster(addresses())).stderr).toContain("nothing to do");
  });

  it("gives up with an error when a node never answers", async () => {
    const result = await bootstrapCluster(["127.0.0.1:1"], { WAIT_TIMEOUT_SECONDS: "1" });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain("127.0.0.1:1 did not answer PING");
  });
});
