import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { loadConfig as loadEdgeConfig, type EdgeConfig } from "../../services/edge/src/config.js";
import { loadConfig as loadMessageConfig, type MessageServiceConfig } from "../../services/message/src/config.js";
import { chartDir, render, type Manifest } from "./helm.js";
import { env, find, ofKind, pods, selects, type Container, type Workload } from "./manifests.js";
import { configInPod } from "./pod-environment.js";

const components = ["edge", "message"] as const;
const container = (workload: Workload) => workload.spec.template.spec.containers[0]!;
const configMapData = (manifests: Manifest[], name: string) =>
  (find(manifests, "ConfigMap", name) as Manifest & { data: Record<string, string> }).data;

const edgeKnobs = (c: EdgeConfig) => ({
  retry: c.retry,
  limits: [c.maxInFlight, c.maxBodyBytes, c.maxHeaderBytes, c.maxQueryParams, c.rpcMaxSockets, c.rpcConnectionMaxAgeMs, c.rpcSendBatchMax, c.shutdownTimeoutMs],
  rateLimit: { send: c.rateLimit.send, pull: c.rateLimit.pull, trustedProxyHops: c.rateLimit.trustedProxyHops },
  auth: c.auth.mode,
});
const messageKnobs = (c: MessageServiceConfig) => ({
  limits: c.limits,
  maxInFlight: c.maxInFlight,
  redis: [c.redisCommandTimeoutMs, c.redisWaitTimeoutMs],
  requireUser: c.requireUser,
  shutdownTimeoutMs: c.shutdownTimeoutMs,
});

describe("service Deployments with default values", () => {
  let manifests: Manifest[];
  beforeAll(async () => {
    manifests = await render();
  });

  it.each(components)("%s: probes /healthz for startup and liveness, /readyz for readiness, on the http port", (component) => {
    const main = container(find<Workload>(manifests, "Deployment", `chat-${component}`));
    const port = main.ports?.find((p) => p.name === "http")?.containerPort;
    expect(port).toBe(component === "edge" ? 8080 : 8081);
    expect(main.startupProbe?.httpGet).toEqual({ path: "/healthz", port: "http" });
    expect(main.livenessProbe?.httpGet).toEqual({ path: "/healthz", port: "http" });
    expect(main.readinessProbe?.httpGet).toEqual({ path: "/readyz", port: "http" });
  });

  it.each(components)("%s: runs non-root, read-only, without capabilities or privilege escalation", (component) => {
    const deployment = find<Workload>(manifests, "Deployment", `chat-${component}`);
    const pod = deployment.spec.template.spec;
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } });
    expect(pod.securityContext?.runAsUser).toBeGreaterThan(0);
    expect(container(deployment).securityContext).toMatchObject({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ["ALL"] },
    });
  });

  it.each(components)("%s: pauses before SIGTERM and gives the drain its whole timeout before SIGKILL", (component) => {
    const deployment = find<Workload>(manifests, "Deployment", `chat-${component}`);
    const drainMs = Number(configMapData(manifests, `chat-${component}`).SHUTDOWN_TIMEOUT_MS);
    const pause = container(deployment).lifecycle?.preStop?.sleep?.seconds ?? 0;
    expect(drainMs).toBe(10_000);
    expect(pause).toBeGreaterThan(0);
    expect(deployment.spec.template.spec.terminationGracePeriodSeconds).toBeGreaterThan(pause + drainMs / 1000);
  });

  it.each(components)("%s: scales on CPU with an autoscaling/v2 HPA (2 to 10 replicas at 70%%)", (component) => {
    const hpa = find(manifests, "HorizontalPodAutoscaler", `chat-${component}`);
    expect(hpa.apiVersion).toBe("autoscaling/v2");
    expect(hpa.spec).toMatchObject({
      scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: `chat-${component}` },
      minReplicas: 2,
      maxReplicas: 10,
      metrics: [{ type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 70 } } }],
    });
  });

  it.each(components)("%s: spreads replicas over zones and nodes with its own pod labels", (component) => {
    const deployment = find<Workload>(manifests, "Deployment", `chat-${component}`);
    const constraints = deployment.spec.template.spec.topologySpreadConstraints ?? [];
    expect(constraints.map((c) => c.topologyKey)).toEqual(["topology.kubernetes.io/zone", "kubernetes.io/hostname"]);
    for (const constraint of constraints) {
      expect(selects(constraint.labelSelector.matchLabels, deployment.spec.template.metadata.labels)).toBe(true);
      expect(constraint.labelSelector.matchLabels["app.kubernetes.io/component"]).toBe(component);
    }
  });

  it.each(components)("%s: takes its settings from its ConfigMap, with the planned metrics port", (component) => {
    const main = container(find<Workload>(manifests, "Deployment", `chat-${component}`));
    expect(main.envFrom).toEqual([{ configMapRef: { name: `chat-${component}` } }]);
    const metricsPort = component === "edge" ? 9464 : 9465;
    expect(configMapData(manifests, `chat-${component}`).METRICS_PORT).toBe(String(metricsPort));
    expect(main.ports?.find((p) => p.name === "metrics")?.containerPort).toBe(metricsPort);
    expect(configMapData(manifests, `chat-${component}`).OTEL_SERVICE_NAME).toBe(`chat-${component}`);
  });

  it("keeps the services' own defaults for every limit, retry and auth setting (read by their config loaders)", () => {
    expect(edgeKnobs(configInPod(manifests, "chat-edge", loadEdgeConfig))).toEqual(edgeKnobs(loadEdgeConfig({})));
    expect(messageKnobs(configInPod(manifests, "chat-message", loadMessageConfig))).toEqual(messageKnobs(loadMessageConfig({})));
    expect(configMapData(manifests, "chat-edge")).toMatchObject({
      RPC_ATTEMPT_TIMEOUT_MS: "2000",
      RPC_RETRY_ATTEMPTS: "3",
      RPC_RETRY_BACKOFF_MS: "25",
      MAX_HEADER_BYTES: "16384",
      MAX_QUERY_PARAMS: "16",
      MAX_IN_FLIGHT: "2048",
      TRUSTED_PROXY_HOPS: "0",
    });
    expect(configMapData(manifests, "chat-message").MAX_IN_FLIGHT).toBe("4096");
  });

  it("sends the edge to the message service's Service by name and port", () => {
    const url = new URL(configMapData(manifests, "chat-edge").MESSAGE_SERVICE_URL!);
    const service = find(manifests, "Service", url.hostname);
    const port = (service.spec as { ports: { name: string; port: number }[] }).ports.find((p) => p.name === "http");
    expect(url.protocol).toBe("http:");
    expect(Number(url.port)).toBe(port?.port);
    const behind = pods(manifests).filter((pod) => selects((service.spec as { selector: Record<string, string> }).selector, pod.labels));
    expect(behind.map((pod) => pod.owner.metadata.name)).toEqual(["chat-message"]);
  });

  it("turns trace export off until an OTLP endpoint is set", () => {
    expect(configMapData(manifests, "chat-edge").OTEL_TRACES_EXPORTER).toBe("none");
    expect(configMapData(manifests, "chat-edge").OTEL_EXPORTER_OTLP_ENDPOINT).toBeUndefined();
  });

  it("rolls pods when their configuration changes (config checksum on the pod template)", async () => {
    const changed = await render({ values: { edge: { config: { rpcTimeoutMs: 1234 } } } });
    const checksum = (m: Manifest[], name: string) =>
      find<Workload>(m, "Deployment", name).spec.template.metadata.annotations?.["checksum/config"];
    expect(checksum(changed, "chat-edge")).not.toBe(checksum(manifests, "chat-edge"));
    expect(checksum(changed, "chat-message")).toBe(checksum(manifests, "chat-message"));
  });

  it("has a helm test pod that runs the send-and-pull script against the edge's Service", () => {
    const pod = find(manifests, "Pod", "chat-test-send-pull");
    expect(pod.metadata.annotations?.["helm.sh/hook"]).toBe("test");
    const main = (pod.spec as { containers: Container[] }).containers[0]!;
    expect(main.image).toBe(container(find<Workload>(manifests, "Deployment", "chat-edge")).image);
    expect(main.args).toEqual([readFileSync(join(chartDir, "files/send-pull-test.mjs"), "utf8")]);
    const edgeUrl = new URL(env(main, "EDGE_URL")!.value!);
    const service = find(manifests, "Service", edgeUrl.hostname);
    expect((service.spec as { ports: { port: number }[] }).ports[0]!.port).toBe(Number(edgeUrl.port || 80));
  });
});

describe("service Deployments with other values", () => {
  it("uses replicaCount and renders no HPA when autoscaling is off", async () => {
    const manifests = await render({
      values: { edge: { autoscaling: { enabled: false }, replicaCount: 3 }, message: { autoscaling: { enabled: false }, replicaCount: 4 } },
    });
    expect(ofKind(manifests, "HorizontalPodAutoscaler")).toEqual([]);
    expect(find<Workload>(manifests, "Deployment", "chat-edge").spec.replicas).toBe(3);
    expect(find<Workload>(manifests, "Deployment", "chat-message").spec.replicas).toBe(4);
  });

  it("applies configured HPA bounds, CPU target and an optional memory target", async () => {
    const manifests = await render({
      values: { message: { autoscaling: { minReplicas: 3, maxReplicas: 30, targetCPUUtilizationPercentage: 55, targetMemoryUtilizationPercentage: 80 } } },
    });
    const spec = find(manifests, "HorizontalPodAutoscaler", "chat-message").spec as { minReplicas: number; maxReplicas: number; metrics: unknown[] };
    expect(spec.minReplicas).toBe(3);
    expect(spec.maxReplicas).toBe(30);
    expect(spec.metrics).toEqual([
      { type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 55 } } },
      { type: "Resource", resource: { name: "memory", target: { type: "Utilization", averageUtilization: 80 } } },
    ]);
  });

  it("passes configured limits and retry settings to the services", async () => {
    const manifests = await render({
      values: {
        edge: {
          config: { rpcAttemptTimeoutMs: 750, rpcRetryAttempts: 5, rpcRetryBackoffMs: 40, maxHeaderBytes: 8192, maxQueryParams: 8, maxInFlight: 500 },
        },
        message: { config: { maxInFlight: 1000 } },
      },
    });
    const edge = configInPod(manifests, "chat-edge", loadEdgeConfig);
    expect(edge.retry).toEqual({ attempts: 5, attemptTimeoutMs: 750, deadlineMs: 5000, backoffMs: 40 });
    expect([edge.maxHeaderBytes, edge.maxQueryParams, edge.maxInFlight]).toEqual([8192, 8, 500]);
    expect(configInPod(manifests, "chat-message", loadMessageConfig).maxInFlight).toBe(1000);
  });

  it.each([
    ["behind the chart's Ingress: 1 (the ingress appends the client to X-Forwarded-For)", { ingress: { enabled: true } }, "1"],
    ["without an Ingress: 0 (X-Forwarded-For is not believed)", { ingress: { enabled: false } }, "0"],
    ["set explicitly, with an Ingress", { ingress: { enabled: true }, config: { trustedProxyHops: 2 } }, "2"],
    ["set explicitly to 0, with an Ingress", { ingress: { enabled: true }, config: { trustedProxyHops: 0 } }, "0"],
  ])("trusts X-Forwarded-For hops %s", async (_name, edge, hops) => {
    const manifests = await render({ values: { edge } });
    expect(configMapData(manifests, "chat-edge").TRUSTED_PROXY_HOPS).toBe(hops);
    expect(configInPod(manifests, "chat-edge", loadEdgeConfig).rateLimit.trustedProxyHops).toBe(Number(hops));
  });

  it("grows the grace period with the drain timeout and the preStop pause", async () => {
    const manifests = await render({ values: { edge: { shutdown: { timeoutMs: 45_000, preStopSleepSeconds: 12 } } } });
    const edge = find<Workload>(manifests, "Deployment", "chat-edge");
    expect(container(edge).lifecycle?.preStop?.sleep?.seconds).toBe(12);
    expect(configMapData(manifests, "chat-edge").SHUTDOWN_TIMEOUT_MS).toBe("45000");
    expect(edge.spec.template.spec.terminationGracePeriodSeconds).toBeGreaterThan(12 + 45);
  });

  it("falls back to an exec sleep for preStop before Kubernetes 1.30", async () => {
    const manifests = await render({ kubeVersion: "1.29.0" });
    const preStop = container(find<Workload>(manifests, "Deployment", "chat-edge")).lifecycle?.preStop;
    expect(preStop).toEqual({ exec: { command: ["sleep", "5"] } });
  });

  it("exports traces to the configured OTLP endpoint", async () => {
    const manifests = await render({ values: { otel: { endpoint: "http://collector.observability:4318", protocol: "http/protobuf" } } });
    for (const component of components) {
      const data = configMapData(manifests, `chat-${component}`);
      expect(data.OTEL_EXPORTER_OTLP_ENDPOINT).toBe("http://collector.observability:4318");
      expect(data.OTEL_EXPORTER_OTLP_PROTOCOL).toBe("http/protobuf");
      expect(data.OTEL_TRACES_EXPORTER).toBeUndefined();
    }
  });

  it("exposes the edge through an Ingress with the configured class, hosts and TLS", async () => {
    const manifests = await render({
      values: {
        edge: {
          ingress: {
            enabled: true,
            className: "nginx",
            hosts: [{ host: "chat.example.com", paths: [{ path: "/", pathType: "Prefix" }] }],
            tls: [{ secretName: "chat-tls", hosts: ["chat.example.com"] }],
          },
        },
      },
    });
    expect(find(manifests, "Ingress", "chat-edge").spec).toEqual({
      ingressClassName: "nginx",
      tls: [{ hosts: ["chat.example.com"], secretName: "chat-tls" }],
      rules: [
        {
          host: "chat.example.com",
          http: { paths: [{ path: "/", pathType: "Prefix", backend: { service: { name: "chat-edge", port: { name: "http" } } } }] },
        },
      ],
    });
  });

  it("renders no Ingress, ServiceMonitor or NetworkPolicy unless asked", async () => {
    const manifests = await render();
    for (const kind of ["Ingress", "ServiceMonitor", "NetworkPolicy"]) expect(ofKind(manifests, kind)).toEqual([]);
  });

  it("drops the metrics port and METRICS_PORT when metrics are off", async () => {
    const manifests = await render({ values: { metrics: { enabled: false } } });
    const edge = container(find<Workload>(manifests, "Deployment", "chat-edge"));
    expect(edge.ports?.map((p) => p.name)).toEqual(["http"]);
    expect(configMapData(manifests, "chat-edge").METRICS_PORT).toBeUndefined();
  });

  it("names resources after the release, truncated to 63 characters", async () => {
    // Helm allows release names of up to 53 characters.
    const release = "a-long-release-name-that-goes-on-and-on-and-on-for-53";
    expect(release).toHaveLength(53);
    const manifests = await render({ release });
    const names = manifests.map((m) => m.metadata.name);
    expect(names.every((name) => name.length <= 63 && !name.endsWith("-"))).toBe(true);
    expect(new Set(ofKind(manifests, "Deployment").map((m) => m.metadata.name)).size).toBe(2);
  });
});
