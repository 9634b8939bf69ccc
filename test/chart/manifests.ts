import { ServiceMonitor } from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor";
import { HTTPRoute } from "@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/HTTPRoute";
import { Deployment } from "kubernetes-models/apps/v1/Deployment";
import { StatefulSet } from "kubernetes-models/apps/v1/StatefulSet";
import { HorizontalPodAutoscaler } from "kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler";
import { Job } from "kubernetes-models/batch/v1/Job";
import { Ingress } from "kubernetes-models/networking.k8s.io/v1/Ingress";
import { NetworkPolicy } from "kubernetes-models/networking.k8s.io/v1/NetworkPolicy";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1/PodDisruptionBudget";
import { ConfigMap } from "kubernetes-models/v1/ConfigMap";
import { Pod } from "kubernetes-models/v1/Pod";
import { Secret } from "kubernetes-models/v1/Secret";
import { Service } from "kubernetes-models/v1/Service";
import { ServiceAccount } from "kubernetes-models/v1/ServiceAccount";
import type { Manifest } from "./helm.js";

type Model = new (data: never) => { validate(): void };

/** The kinds the chart may render, each with its kubernetes-models class (schemas of 1.27). */
const models: Record<string, Model> = {
  "apps/v1/Deployment": Deployment,
  "apps/v1/StatefulSet": StatefulSet,
  "autoscaling/v2/HorizontalPodAutoscaler": HorizontalPodAutoscaler,
  "batch/v1/Job": Job,
  "networking.k8s.io/v1/Ingress": Ingress,
  "networking.k8s.io/v1/NetworkPolicy": NetworkPolicy,
  "policy/v1/PodDisruptionBudget": PodDisruptionBudget,
  "v1/ConfigMap": ConfigMap,
  "v1/Pod": Pod,
  "v1/Secret": Secret,
  "v1/Service": Service,
  "v1/ServiceAccount": ServiceAccount,
  "monitoring.coreos.com/v1/ServiceMonitor": ServiceMonitor,
  "gateway.networking.k8s.io/v1/HTTPRoute": HTTPRoute,
};

/** Validates one object against its Kubernetes schema; throws naming the object on failure. */
export function validate(manifest: Manifest): void {
  const model = models[`${manifest.apiVersion}/${manifest.kind}`];
  if (!model) throw new Error(`no schema known for ${manifest.apiVersion} ${manifest.kind} ${manifest.metadata.name}`);
  try {
    new model(manifest as never).validate();
  } catch (error) {
    throw new Error(`${manifest.kind} ${manifest.metadata.name} is invalid: ${(error as Error).message}`, { cause: error });
  }
}

export const ofKind = (manifests: readonly Manifest[], kind: string) => manifests.filter((m) => m.kind === kind);

export function find<T = Manifest>(manifests: readonly Manifest[], kind: string, name: string): T {
  const found = manifests.find((m) => m.kind === kind && m.metadata.name === name);
  if (!found) {
    const names = ofKind(manifests, kind).map((m) => m.metadata.name);
    throw new Error(`no ${kind} named ${name} in the render (there are: ${names.join(", ") || "none"})`);
  }
  return found as T;
}

/* A few typed views of what the tests read. */
export interface Container {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  env?: {
    name: string;
    value?: string;
    valueFrom?: { secretKeyRef?: { name: string; key: string }; fieldRef?: { fieldPath: string } };
  }[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  ports?: { name: string; containerPort: number }[];
  startupProbe?: Probe;
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  lifecycle?: { preStop?: { sleep?: { seconds: number }; exec?: { command: string[] } } };
  securityContext?: Record<string, unknown>;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
}
export interface Probe {
  httpGet?: { path: string; port: string | number };
  exec?: { command: string[] };
  periodSeconds?: number;
  failureThreshold?: number;
}
export interface PodSpec {
  containers: Container[];
  securityContext?: Record<string, unknown>;
  terminationGracePeriodSeconds?: number;
  topologySpreadConstraints?: { topologyKey: string; labelSelector: { matchLabels: Record<string, string> } }[];
  volumes?: Volume[];
  affinity?: Record<string, unknown>;
}
export interface KeyToPath {
  key: string;
  path: string;
}
export interface Volume {
  name: string;
  emptyDir?: Record<string, unknown>;
  configMap?: { name: string; items?: KeyToPath[] };
  secret?: { secretName: string; items?: KeyToPath[] };
}
export interface Workload extends Manifest {
  spec: {
    replicas?: number;
    serviceName?: string;
    selector: { matchLabels: Record<string, string> };
    template: { metadata: { labels: Record<string, string>; annotations?: Record<string, string> }; spec: PodSpec };
    volumeClaimTemplates?: unknown[];
  };
}

/** Every pod the render would run: Deployments, StatefulSets, Jobs and bare Pods. */
export function pods(manifests: readonly Manifest[]): { owner: Manifest; labels: Record<string, string>; spec: PodSpec }[] {
  return manifests.flatMap((m) => {
    if (m.kind === "Deployment" || m.kind === "StatefulSet" || m.kind === "Job") {
      const template = (m as Workload).spec.template;
      return [{ owner: m, labels: template.metadata.labels, spec: template.spec }];
    }
    if (m.kind === "Pod") return [{ owner: m, labels: m.metadata.labels ?? {}, spec: m.spec as PodSpec }];
    return [];
  });
}

/** Whether a label selector (matchLabels) selects a pod with these labels. */
export const selects = (selector: Record<string, string>, labels: Record<string, string>) =>
  Object.entries(selector).every(([key, value]) => labels[key] === value);

export const env = (container: Container, name: string) => container.env?.find((e) => e.name === name);

/** Where a file a container reads comes from: the Secret or ConfigMap key behind its mount. */
export function mountedFile(
  spec: PodSpec,
  container: Container,
  path: string,
): { kind: "secret" | "configMap"; name: string; key: string } | undefined {
  for (const mount of container.volumeMounts ?? []) {
    if (!path.startsWith(`${mount.mountPath}/`)) continue;
    const volume = spec.volumes?.find((v) => v.name === mount.name);
    const relative = path.slice(mount.mountPath.length + 1);
    const source = volume?.secret
      ? { kind: "secret" as const, name: volume.secret.secretName, items: volume.secret.items }
      : volume?.configMap
        ? { kind: "configMap" as const, name: volume.configMap.name, items: volume.configMap.items }
        : undefined;
    if (!source) return undefined;
    // Without items every key is a file of its own name.
    const key = source.items ? source.items.find((item) => item.path === relative)?.key : relative;
    return key === undefined ? undefined : { kind: source.kind, name: source.name, key };
  }
  return undefined;
}
