import * as http from "node:http";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Manifest } from "./helm.js";

// Every kind the chart renders, by group/version: what Helm's discovery needs to map them.
const kinds: Record<string, string[]> = {
  v1: ["ConfigMap", "Secret", "Service", "ServiceAccount", "Pod"],
  "apps/v1": ["Deployment", "StatefulSet"],
  "autoscaling/v2": ["HorizontalPodAutoscaler"],
  "batch/v1": ["Job"],
  "networking.k8s.io/v1": ["NetworkPolicy", "Ingress"],
  "policy/v1": ["PodDisruptionBudget"],
  "monitoring.coreos.com/v1": ["ServiceMonitor"],
};

const plural = (kind: string) => {
  const lower = kind.toLowerCase();
  return lower.endsWith("y") ? `${lower.slice(0, -1)}ies` : lower.endsWith("s") ? `${lower}es` : `${lower}s`;
};

function resourceList(groupVersion: string) {
  const resources = kinds[groupVersion]!.map((kind) => ({ name: plural(kind), singularName: kind.toLowerCase(), namespaced: true, kind, verbs: ["get", "list", "create"] }));
  return { kind: "APIResourceList", apiVersion: "v1", groupVersion, resources };
}

const groups = Object.keys(kinds)
  .filter((groupVersion) => groupVersion.includes("/"))
  .map((groupVersion) => {
    const [name, version] = groupVersion.split("/") as [string, string];
    return { name, versions: [{ groupVersion, version }], preferredVersion: { groupVersion, version } };
  });

function pathOf(object: Manifest): string {
  const base = object.apiVersion.includes("/") ? `/apis/${object.apiVersion}` : `/api/${object.apiVersion}`;
  return `${base}/namespaces/${object.metadata.namespace}/${plural(object.kind)}/${object.metadata.name}`;
}

export interface KubeApiStub {
  /** A kubeconfig file pointing at the stub. */
  readonly kubeconfig: string;
  close(): Promise<void>;
}

/**
 * A loopback stand-in for the few Kubernetes API reads `helm template --dry-run=server` makes:
 * discovery, and GETs of `objects` (what Helm's `lookup` finds). Anything else is 404.
 */
export async function startKubeApiStub(objects: readonly Manifest[]): Promise<KubeApiStub> {
  const byPath = new Map(objects.map((object) => [pathOf(object), object]));
  const server = http.createServer((request, response) => {
    const path = (request.url ?? "").split("?")[0]!;
    const groupVersion = /^\/apis\/([^/]+\/[^/]+)$/.exec(path)?.[1];
    const body =
      path === "/version" ? { major: "1", minor: "31", gitVersion: "v1.31.0" }
      : path === "/api" ? { kind: "APIVersions", versions: ["v1"], serverAddressByClientCIDRs: [] }
      : path === "/apis" ? { kind: "APIGroupList", apiVersion: "v1", groups }
      : path === "/api/v1" ? resourceList("v1")
      : groupVersion && kinds[groupVersion] ? resourceList(groupVersion)
      : byPath.get(path);
    response.writeHead(body ? 200 : 404, { "content-type": "application/json" });
    response.end(JSON.stringify(body ?? { kind: "Status", apiVersion: "v1", status: "Failure", reason: "NotFound", code: 404 }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const dir = mkdtempSync(join(tmpdir(), "chat-kube-"));
  const kubeconfig = join(dir, "kubeconfig");
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  writeFileSync(
    kubeconfig,
    JSON.stringify({
      apiVersion: "v1",
      kind: "Config",
      clusters: [{ name: "stub", cluster: { server: url } }],
      users: [{ name: "stub", user: { token: "stub" } }],
      contexts: [{ name: "stub", context: { cluster: "stub", user: "stub" } }],
      "current-context": "stub",
    }),
  );
  return {
    kubeconfig,
    async close() {
      await new Promise((resolve) => server.close(resolve));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
