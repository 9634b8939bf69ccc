import { beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { lint, render, type Manifest } from "./helm.js";
import { loadConfig as loadEdgeConfig } from "../../services/edge/src/config.js";
import { loadConfig as loadMessageConfig } from "../../services/message/src/config.js";
import { find, ofKind, pods, selects, validate, type Workload } from "./manifests.js";
import { podEnvironment } from "./pod-environment.js";
import { expectedExternalConfigMaps, expectedExternalSecrets, scenarios } from "./scenarios.js";

const dnsLabel = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

// Each scenario is rendered once, by whichever describe block asks first.
const renders = new Map<string, Promise<Manifest[]>>();
const rendered = (name: string): Promise<Manifest[]> => {
  if (!renders.has(name)) renders.set(name, render(scenarios[name]!));
  return renders.get(name)!;
};

describe.each(Object.entries(scenarios))("chart rendered with %s", (name, options) => {
  let manifests: Manifest[];
  beforeAll(async () => {
    manifests = await rendered(name);
  });

  it("passes helm lint --strict", async () => {
    const result = await lint(options);
    expect(result.stderr + result.stdout).toContain("0 chart(s) failed");
    expect(result.ok).toBe(true);
  });

  it("renders only objects that match their Kubernetes schema, with valid names", () => {
    expect(manifests.length).toBeGreaterThan(10);
    for (const manifest of manifests) {
      validate(manifest);
      expect(manifest.metadata.name.length, manifest.metadata.name).toBeLessThanOrEqual(63);
      expect(manifest.metadata.name, `${manifest.kind} name`).toMatch(dnsLabel);
    }
  });

  it("gives every workload a selector that matches its own pods", () => {
    for (const kind of ["Deployment", "StatefulSet"]) {
      for (const workload of ofKind(manifests, kind) as Workload[]) {
        expect(selects(workload.spec.selector.matchLabels, workload.spec.template.metadata.labels), workload.metadata.name).toBe(true);
      }
    }
  });

  it("points every Service at pods that have the ports it targets", () => {
    for (const service of ofKind(manifests, "Service")) {
      const spec = service.spec as { selector: Record<string, string>; ports: { targetPort: string }[] };
      const targets = pods(manifests).filter((pod) => pod.owner.kind !== "Job" && selects(spec.selector, pod.labels));
      expect(targets.map((pod) => pod.owner.kind), `pods behind Service ${service.metadata.name}`).toHaveLength(1);
      const portNames = targets[0]!.spec.containers.flatMap((c) => c.ports ?? []).map((p) => p.name);
      for (const port of spec.ports) expect(portNames, service.metadata.name).toContain(port.targetPort);
    }
  });

  it("scales Deployments from exactly one place: the HPA when it exists, else spec.replicas", () => {
    for (const deployment of ofKind(manifests, "Deployment") as Workload[]) {
      const hpa = ofKind(manifests, "HorizontalPodAutoscaler").find(
        (h) => (h.spec as { scaleTargetRef: { name: string } }).scaleTargetRef.name === deployment.metadata.name,
      );
      if (hpa) expect(deployment.spec.replicas, deployment.metadata.name).toBeUndefined();
      else expect(deployment.spec.replicas, deployment.metadata.name).toBeGreaterThan(0);
    }
    for (const hpa of ofKind(manifests, "HorizontalPodAutoscaler")) {
      const target = (hpa.spec as { scaleTargetRef: { kind: string; name: string } }).scaleTargetRef;
      expect(target.kind).toBe("Deployment");
      find(manifests, "Deployment", target.name);
    }
  });

  it("gives every PodDisruptionBudget the pods of exactly one workload", () => {
    for (const pdb of ofKind(manifests, "PodDisruptionBudget")) {
      const selector = (pdb.spec as { selector: { matchLabels: Record<string, string> } }).selector.matchLabels;
      const owners = pods(manifests).filter((pod) => selects(selector, pod.labels)).map((pod) => pod.owner.metadata.name);
      expect(owners, pdb.metadata.name).toHaveLength(1);
    }
  });

  /** Checks that a referenced key exists in a rendered object, or that the object is one the values name as existing. */
  function expectKey(kind: "Secret" | "ConfigMap", name: string, key: string | undefined, external: string[], what: string) {
    if (external.includes(name)) {
      expect(ofKind(manifests, kind).map((m) => m.metadata.name), what).not.toContain(name);
      return;
    }
    const object = find(manifests, kind, name) as Manifest & { data: Record<string, string> };
    if (key !== undefined) expect(Object.keys(object.data), what).toContain(key);
  }

  it("references only ConfigMaps and keys that it renders (or that the values name as existing)", () => {
    const external = expectedExternalConfigMaps(options);
    for (const pod of pods(manifests)) {
      for (const container of pod.spec.containers) {
        for (const source of container.envFrom ?? []) {
          if (source.configMapRef) expectKey("ConfigMap", source.configMapRef.name, undefined, [], pod.owner.metadata.name);
        }
      }
      for (const volume of pod.spec.volumes ?? []) {
        if (!volume.configMap) continue;
        const items = volume.configMap.items?.map((item) => item.key) ?? [undefined];
        for (const key of items) expectKey("ConfigMap", volume.configMap.name, key, external, `${volume.name} in ${pod.owner.metadata.name}`);
      }
    }
  });

  it("references only Secrets and keys that it renders (or that the values name as existing)", () => {
    const external = expectedExternalSecrets(options);
    for (const pod of pods(manifests)) {
      for (const variable of pod.spec.containers.flatMap((c) => c.env ?? [])) {
        const ref = variable.valueFrom?.secretKeyRef;
        if (ref) expectKey("Secret", ref.name, ref.key, external, `${variable.name} in ${pod.owner.metadata.name}`);
      }
      for (const volume of pod.spec.volumes ?? []) {
        if (!volume.secret) continue;
        const items = volume.secret.items?.map((item) => item.key) ?? [undefined];
        for (const key of items) expectKey("Secret", volume.secret.secretName, key, external, `${volume.name} in ${pod.owner.metadata.name}`);
      }
    }
  });

  it("gives both services a configuration they accept at startup (their own config loaders)", () => {
    for (const [deployment, load] of [["chat-edge", loadEdgeConfig], ["chat-message", loadMessageConfig]] as const) {
      const pod = podEnvironment(manifests, deployment);
      try {
        expect(() => load(pod.env), deployment).not.toThrow();
      } finally {
        pod.remove();
      }
    }
  });

  it("keeps every secret value out of all objects but Secrets", () => {
    const secretValues = ofKind(manifests, "Secret")
      .flatMap((s) => Object.values((s as Manifest & { data: Record<string, string> }).data))
      .map((encoded) => Buffer.from(encoded, "base64").toString("utf8"));
    const rest = stringify(manifests.filter((m) => m.kind !== "Secret"));
    for (const value of secretValues) {
      expect(value.length).toBeGreaterThan(8);
      expect(rest).not.toContain(value);
    }
  });

  it("selects existing pods in every NetworkPolicy rule", () => {
    for (const policy of ofKind(manifests, "NetworkPolicy")) {
      const spec = policy.spec as {
        podSelector: { matchLabels: Record<string, string> };
        ingress: { from?: { podSelector?: { matchLabels: Record<string, string> } }[] }[];
      };
      expect(pods(manifests).some((pod) => selects(spec.podSelector.matchLabels, pod.labels)), policy.metadata.name).toBe(true);
      for (const peer of spec.ingress.flatMap((rule) => rule.from ?? [])) {
        if (!peer.podSelector) continue;
        const selector = peer.podSelector.matchLabels;
        expect(pods(manifests).some((pod) => selects(selector, pod.labels)), `${policy.metadata.name} peer`).toBe(true);
      }
    }
  });

  it("routes every Ingress path to a Service port that exists", () => {
    for (const ingress of ofKind(manifests, "Ingress")) {
      const rules = (ingress.spec as { rules: { http: { paths: { backend: { service: { name: string; port: { name: string } } } }[] } }[] }).rules;
      for (const { backend } of rules.flatMap((rule) => rule.http.paths)) {
        const service = find(manifests, "Service", backend.service.name);
        const ports = (service.spec as { ports: { name: string }[] }).ports.map((p) => p.name);
        expect(ports).toContain(backend.service.port.name);
      }
    }
  });

  it("points every ServiceMonitor at a Service with a metrics port", () => {
    for (const monitor of ofKind(manifests, "ServiceMonitor")) {
      const spec = monitor.spec as { selector: { matchLabels: Record<string, string> }; endpoints: { port: string; path: string }[] };
      const services = ofKind(manifests, "Service").filter((s) => selects(spec.selector.matchLabels, s.metadata.labels ?? {}));
      expect(services, monitor.metadata.name).toHaveLength(1);
      const ports = (services[0]!.spec as { ports: { name: string }[] }).ports.map((p) => p.name);
      for (const endpoint of spec.endpoints) {
        expect(ports).toContain(endpoint.port);
        expect(endpoint.path).toBe("/metrics");
      }
    }
  });
});

// The checks above hold for every object of a kind; with none of it rendered they check nothing.
describe("the scenarios between them", () => {
  it("render every kind of object and reference the checks above look at", async () => {
    const all = (await Promise.all(Object.keys(scenarios).map(rendered))).flat();
    const kinds = ["Deployment", "StatefulSet", "Service", "HorizontalPodAutoscaler", "PodDisruptionBudget", "NetworkPolicy", "Ingress", "ServiceMonitor", "Secret", "ConfigMap"];
    expect(kinds.filter((kind) => ofKind(all, kind).length === 0), "kinds no scenario renders").toEqual([]);
    const specs = pods(all).map((pod) => pod.spec);
    const references = {
      "env from a Secret key": specs.some((spec) => spec.containers.some((c) => (c.env ?? []).some((v) => v.valueFrom?.secretKeyRef))),
      "a ConfigMap volume": specs.some((spec) => (spec.volumes ?? []).some((v) => v.configMap)),
      "a Secret volume": specs.some((spec) => (spec.volumes ?? []).some((v) => v.secret)),
      "a NetworkPolicy peer chosen by pod labels": ofKind(all, "NetworkPolicy").some((policy) =>
        (policy.spec as { ingress: { from?: { podSelector?: unknown }[] }[] }).ingress.some((rule) => (rule.from ?? []).some((peer) => peer.podSelector)),
      ),
    };
    expect(Object.entries(references).filter(([, found]) => !found).map(([what]) => what), "references no scenario renders").toEqual([]);
  });
});
