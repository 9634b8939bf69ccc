import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { redisCli } from "../harness/redis.js";
import { chartDir } from "./helm.js";

const run = promisify(execFile);
export const scriptsDir = join(chartDir, "charts/redis-cluster/files");

export interface ScriptRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs files/bootstrap-cluster.sh with sh, as the hook Job does. */
export async function bootstrapCluster(nodes: readonly string[], env: Record<string, string> = {}): Promise<ScriptRun> {
  try {
    const { stdout, stderr } = await run("sh", [join(scriptsDir, "bootstrap-cluster.sh"), ...nodes], {
      env: { PATH: process.env.PATH ?? "", WAIT_TIMEOUT_SECONDS: "30", ...env },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? -1, stdout: failed.stdout ?? "", stderr: failed.stderr ?? "" };
  }
}

/** One line of CLUSTER NODES. */
export interface ClusterNode {
  readonly id: string;
  readonly address: string;
  readonly flags: readonly string[];
  readonly masterId: string;
  readonly slots: string;
}

export async function clusterNodes(port: number, password?: string): Promise<ClusterNode[]> {
  const args = password ? ["--no-auth-warning", "-a", password, "cluster", "nodes"] : ["cluster", "nodes"];
  const text = await redisCli(port, ...args);
  return text
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => {
      const [id, address, flags, masterId, , , , , ...slots] = line.trim().split(" ");
      return { id: id!, address: address!.split("@")[0]!, flags: flags!.split(","), masterId: masterId!, slots: slots.join(" ") };
    });
}

const isMaster = (node: ClusterNode) => node.flags.includes("master");

/**
 * Whether a node's view shows a settled cluster of `masters` masters with slots, each with
 * `replicasPerMaster` replicas, and nothing failed or unknown.
 */
export function settled(view: readonly ClusterNode[], masters: number, replicasPerMaster: number): boolean {
  const masterNodes = view.filter(isMaster);
  const replicas = view.filter((node) => node.flags.includes("slave"));
  const healthy = view.every((node) => !node.flags.some((flag) => ["fail", "fail?", "noaddr", "handshake"].includes(flag)));
  return (
    healthy &&
    view.length === masters * (1 + replicasPerMaster) &&
    masterNodes.length === masters &&
    masterNodes.every((master) => master.slots !== "" && replicas.filter((r) => r.masterId === master.id).length === replicasPerMaster)
  );
}

/** The cluster's shape, independent of which node is asked: ids, roles and slots. */
export const shape = (view: readonly ClusterNode[]) =>
  view
    .map((node) => `${node.id} ${isMaster(node) ? "master" : `replica-of-${node.masterId}`} ${node.address} ${node.slots}`)
    .sort();
