import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import type { Manifest } from "./helm.js";
import { find, type Workload } from "./manifests.js";

type Data = Record<string, string>;

/** The content of a Secret's or ConfigMap's key: rendered, or a stand-in for an object the values name as existing. */
function keyContent(manifests: readonly Manifest[], kind: "Secret" | "ConfigMap", name: string, key: string): string {
  const object = manifests.find((m) => m.kind === kind && m.metadata.name === name) as (Manifest & { data: Data }) | undefined;
  if (!object) return `existing ${kind} ${name}, key ${key}: a stand-in value of more than 32 bytes`;
  const value = object.data[key];
  if (value === undefined) throw new Error(`${kind} ${name} has no key ${key}`);
  return kind === "Secret" ? Buffer.from(value, "base64").toString("utf8") : value;
}

export interface PodEnvironment {
  /** The variables the container starts with; paths into mounts point at the files written for them. */
  readonly env: Record<string, string>;
  remove(): void;
}

/**
 * What the first container of a Deployment would see: its ConfigMap, its env (Secrets
 * resolved), and its Secret and ConfigMap mounts written to a scratch directory, with every
 * variable that names a file in a mount rewritten to point there.
 */
export function podEnvironment(manifests: readonly Manifest[], deployment: string): PodEnvironment {
  const spec = find<Workload>(manifests, "Deployment", deployment).spec.template.spec;
  const container = spec.containers[0]!;
  const env: Record<string, string> = {};
  for (const source of container.envFrom ?? []) {
    if (source.configMapRef) Object.assign(env, (find(manifests, "ConfigMap", source.configMapRef.name) as Manifest & { data: Data }).data);
  }
  for (const variable of container.env ?? []) {
    const ref = variable.valueFrom?.secretKeyRef;
    env[variable.name] = ref ? keyContent(manifests, "Secret", ref.name, ref.key) : (variable.value ?? "from the pod");
  }
  const scratch = mkdtempSync(join(tmpdir(), "chat-pod-"));
  for (const mount of container.volumeMounts ?? []) {
    const volume = spec.volumes?.find((v) => v.name === mount.name);
    const source = volume?.secret
      ? { kind: "Secret" as const, name: volume.secret.secretName, items: volume.secret.items }
      : volume?.configMap
        ? { kind: "ConfigMap" as const, name: volume.configMap.name, items: volume.configMap.items }
        : undefined;
    if (!source) continue;
    const local = join(scratch, mount.name);
    for (const item of source.items ?? []) {
      mkdirSync(dirname(join(local, item.path)), { recursive: true });
      writeFileSync(join(local, item.path), keyContent(manifests, source.kind, source.name, item.key));
    }
    for (const [name, value] of Object.entries(env)) {
      if (value.startsWith(`${mount.mountPath}/`)) env[name] = join(local, value.slice(mount.mountPath.length + 1));
    }
  }
  return { env, remove: () => rmSync(scratch, { recursive: true, force: true }) };
}

/** A service's settings as it reads them from the rendered pod (`load` is its config loader). */
export function configInPod<T>(manifests: readonly Manifest[], deployment: string, load: (env: NodeJS.ProcessEnv) => T): T {
  const pod = podEnvironment(manifests, deployment);
  try {
    return load(pod.env);
  } finally {
    pod.remove();
  }
}
