import { beforeAll, describe, expect, it } from "vitest";
import { render, renderError, type Manifest } from "./helm.js";
import { env, find, mountedFile, ofKind, pods, selects, type Workload } from "./manifests.js";

const data = (manifests: Manifest[], kind: string, name: string) =>
  (find(manifests, kind, name) as Manifest & { data: Record<string, string> }).data;
const messageContainer = (manifests: Manifest[]) =>
  find<Workload>(manifests, "Deployment", "chat-message").spec.template.spec.containers[0]!;
const edgeContainer = (manifests: Manifest[]) =>
  find<Workload>(manifests, "Deployment", "chat-edge").spec.template.spec.containers[0]!;
const redisKeys = (config: Record<string, string>) =>
  Object.fromEntries(Object.entries(config).filter(([key]) => key.startsWith("REDIS_") && !key.startsWith("REDIS_WAIT") && !["REDIS_COMMAND_TIMEOUT_MS", "REDIS_ALLOW_EVICTION"].includes(key)));

describe("the in-chart Redis Cluster (defaults)", () => {
  let manifests: Manifest[];
  let statefulSet: Workload;
  beforeAll(async () => {
    manifests = await render({ namespace: "prod" });
    statefulSet = find<Workload>(manifests, "StatefulSet", "chat-redis-cluster");
  });

  it("runs 6 pods (3 masters, 3 replicas) of a pinned official redis image, on persistent volumes", () => {
    expect(statefulSet.spec.replicas).toBe(6);
    const image = statefulSet.spec.template.spec.containers[0]!.image;
    expect(image).toMatch(/^redis:\d+\.\d+\.\d+-/);
    expect(statefulSet.spec.volumeClaimTemplates).toHaveLength(1);
    const bootstrap = find<Workload>(manifests, "Job", "chat-redis-cluster-bootstrap");
    expect(env(bootstrap.spec.template.spec.containers[0]!, "REDIS_CLUSTER_REPLICAS")?.value).toBe("1");
  });

  it("announces each node by its stable DNS name and redirects clients to hostnames", () => {
    const container = statefulSet.spec.template.spec.containers[0]!;
    const headless = find(manifests, "Service", statefulSet.spec.serviceName!);
    expect(headless.spec).toMatchObject({ clusterIP: "None", publishNotReadyAddresses: true });
    expect(env(container, "REDIS_ANNOUNCE_HOSTNAME")?.value).toBe(
      `$(POD_NAME).${headless.metadata.name}.prod.svc.cluster.local`,
    );
    const conf = data(manifests, "ConfigMap", "chat-redis-cluster")["redis.conf"]!;
    expect(conf).toMatch(/^cluster-preferred-endpoint-type hostname$/m);
    expect(conf).toMatch(/^cluster-enabled yes$/m);
    expect(conf).toMatch(/^appendonly yes$/m);
  });

  it("sizes stream nodes for many small chats (stream-node-max-bytes 1024), and lets that be changed", async () => {
    expect(data(manifests, "ConfigMap", "chat-redis-cluster")["redis.conf"]).toMatch(/^stream-node-max-bytes 1024$/m);
    const tuned = await render({ values: { "redis-cluster": { cluster: { streamNodeMaxBytes: 4096 } } } });
    expect(data(tuned, "ConfigMap", "chat-redis-cluster")["redis.conf"]).toMatch(/^stream-node-max-bytes 4096$/m);
  });

  it("caps Redis memory at 75% of the container's limit and refuses writes there instead of evicting", async () => {
    const conf = data(manifests, "ConfigMap", "chat-redis-cluster")["redis.conf"]!;
    expect(conf).toMatch(new RegExp(`^maxmemory ${(512 * 1024 * 1024 * 3) / 4}$`, "m"));
    expect(conf).toMatch(/^maxmemory-policy noeviction$/m);
    expect(data(manifests, "ConfigMap", "chat-message").REDIS_ALLOW_EVICTION).toBe("false");
    const bigger = await render({ values: { "redis-cluster": { resources: { limits: { memory: "2G" } }, cluster: { maxmemoryPercent: 80 } } } });
    expect(data(bigger, "ConfigMap", "chat-redis-cluster")["redis.conf"]).toMatch(/^maxmemory 1600000000$/m);
    const explicit = await render({ values: { "redis-cluster": { cluster: { maxmemory: "300mb" } } } });
    expect(data(explicit, "ConfigMap", "chat-redis-cluster")["redis.conf"]).toMatch(/^maxmemory 300mb$/m);
    expect(await renderError({ values: { "redis-cluster": { resources: { limits: { memory: "0.5Gi" } } } } })).toMatch(
      /cannot derive maxmemory from resources.limits.memory "0.5Gi"; set cluster.maxmemory/,
    );
  });

  it("passes retention to the message service, off by default", async () => {
    expect(data(manifests, "ConfigMap", "chat-message")).toMatchObject({
      RETENTION_MAX_MESSAGES: "0",
      RETENTION_MAX_AGE_SECONDS: "0",
      MEMBER_LOG_MAX_EVENTS: "1000",
      MEMBER_LOG_MAX_AGE_SECONDS: "604800",
    });
    // Large numbers stay integers (Helm would print 2592000 as "2.592e+06", which the service refuses).
    const edge = await render({ values: { edge: { config: { maxBodyBytes: 16777216 }, rateLimit: { sendPerMinute: 1000000 } } } });
    expect(data(edge, "ConfigMap", "chat-edge")).toMatchObject({ MAX_BODY_BYTES: "16777216", RATE_LIMIT_SEND_PER_MINUTE: "1000000" });
    const kept = await render({
      values: { message: { config: { retention: { maxMessages: 10000, maxAgeSeconds: 2592000 }, memberLog: { maxEvents: 50000, maxAgeSeconds: 2592000 }, maxInFlight: 1000000 } } },
    });
    expect(data(kept, "ConfigMap", "chat-message")).toMatchObject({
      RETENTION_MAX_MESSAGES: "10000",
      RETENTION_MAX_AGE_SECONDS: "2592000",
      MEMBER_LOG_MAX_EVENTS: "50000",
      MEMBER_LOG_MAX_AGE_SECONDS: "2592000",
      MAX_IN_FLIGHT: "1000000",
    });
  });

  it("has sends confirmed by a replica (WAIT 1) and nodes keep an append-only file", () => {
    expect(data(manifests, "ConfigMap", "chat-message").REDIS_WAIT_REPLICAS).toBe("1");
    expect(data(manifests, "ConfigMap", "chat-redis-cluster")["redis.conf"]).toMatch(/^appendonly yes$/m);
  });

  it("gives the message service every node's DNS name as a cluster seed", () => {
    const nodes = data(manifests, "ConfigMap", "chat-message").REDIS_CLUSTER_NODES!.split(",");
    const expected = Array.from(
      { length: 6 },
      (_, i) => `${statefulSet.metadata.name}-${i}.${statefulSet.spec.serviceName}.prod.svc.cluster.local:6379`,
    );
    expect(nodes).toEqual(expected);
    expect(data(manifests, "ConfigMap", "chat-message").REDIS_URL).toBeUndefined();
  });

  it("forms the cluster with a post-install/post-upgrade hook Job that reaches every node", () => {
    const job = find<Workload>(manifests, "Job", "chat-redis-cluster-bootstrap");
    expect(job.metadata.annotations?.["helm.sh/hook"]).toBe("post-install,post-upgrade");
    const container = job.spec.template.spec.containers[0]!;
    expect(container.command).toEqual(["sh", "/scripts/bootstrap-cluster.sh"]);
    const nodes = env(container, "REDIS_NODES")!.value!.split(" ");
    expect(nodes.join(",")).toBe(data(manifests, "ConfigMap", "chat-message").REDIS_CLUSTER_NODES);
    expect(data(manifests, "ConfigMap", "chat-redis-cluster")["bootstrap-cluster.sh"]).toContain("--cluster create");
    expect(selects(statefulSet.spec.selector.matchLabels, job.spec.template.metadata.labels)).toBe(false);
  });

  it("hands the generated password to nodes, Job and message service only through one Secret", () => {
    const secret = data(manifests, "Secret", "chat-redis-cluster");
    expect(Buffer.from(secret["redis-password"]!, "base64").toString()).toMatch(/^[A-Za-z0-9]{32}$/);
    const refs = pods(manifests)
      .flatMap((pod) => pod.spec.containers.flatMap((c) => c.env ?? []))
      .filter((e) => e.name === "REDIS_PASSWORD" || e.name === "REDISCLI_AUTH");
    expect(refs.length).toBe(4); // node: REDIS_PASSWORD + REDISCLI_AUTH, Job, message service
    for (const ref of refs) {
      expect(ref.value).toBeUndefined();
      expect(ref.valueFrom?.secretKeyRef).toEqual({ name: "chat-redis-cluster", key: "redis-password" });
    }
  });

  it("keeps replicas of one master apart: anti-affinity on the node's hostname, and a PDB", () => {
    const affinity = statefulSet.spec.template.spec.affinity as {
      podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: { podAffinityTerm: { topologyKey: string; labelSelector: { matchLabels: Record<string, string> } } }[] };
    };
    const term = affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0]!.podAffinityTerm;
    expect(term.topologyKey).toBe("kubernetes.io/hostname");
    expect(term.labelSelector.matchLabels).toEqual(statefulSet.spec.selector.matchLabels);
    expect(find(manifests, "PodDisruptionBudget", "chat-redis-cluster").spec).toMatchObject({ maxUnavailable: 1 });
  });

  it("runs the nodes non-root with a read-only root filesystem", () => {
    const pod = statefulSet.spec.template.spec;
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } });
    expect(pod.containers[0]!.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } });
  });
});

describe("Redis choices", () => {
  it("sizes the cluster from masters and replicas per master", async () => {
    const manifests = await render({ values: { "redis-cluster": { cluster: { masters: 5, replicasPerMaster: 2 } } } });
    expect(find<Workload>(manifests, "StatefulSet", "chat-redis-cluster").spec.replicas).toBe(15);
    expect(data(manifests, "ConfigMap", "chat-message").REDIS_CLUSTER_NODES!.split(",")).toHaveLength(15);
  });

  it("uses an existing Secret for the cluster's password and renders none", async () => {
    const manifests = await render({ values: { "redis-cluster": { auth: { existingSecret: "vault-redis", existingSecretPasswordKey: "pw" } } } });
    expect(ofKind(manifests, "Secret")).toEqual([]);
    expect(env(messageContainer(manifests), "REDIS_PASSWORD")?.valueFrom?.secretKeyRef).toEqual({ name: "vault-redis", key: "pw" });
  });

  it("points the message service at an external Redis URL, with no StatefulSet or Job", async () => {
    const manifests = await render({
      values: {
        "redis-cluster": { enabled: false },
        externalRedis: { url: "rediss://cache.example.com:6380/2", username: "chat", existingSecret: "cache", existingSecretPasswordKey: "password" },
      },
    });
    for (const kind of ["StatefulSet", "Job", "Secret"]) expect(ofKind(manifests, kind)).toEqual([]);
    const config = data(manifests, "ConfigMap", "chat-message");
    expect(config.REDIS_URL).toBe("rediss://cache.example.com:6380/2");
    expect(config.REDIS_USERNAME).toBe("chat");
    expect(config.REDIS_CLUSTER_NODES).toBeUndefined();
    // An external Redis may have no replica: waiting for one is opt-in there.
    expect(config.REDIS_WAIT_REPLICAS).toBe("0");
    expect(env(messageContainer(manifests), "REDIS_PASSWORD")?.valueFrom?.secretKeyRef).toEqual({ name: "cache", key: "password" });
  });

  it("points the message service at external cluster seeds, keeping an inline password in a Secret", async () => {
    const manifests = await render({
      values: { "redis-cluster": { enabled: false }, externalRedis: { clusterNodes: ["10.0.0.1:6379", "redis-b:7000"], password: "s3cret-inline" } },
    });
    expect(data(manifests, "ConfigMap", "chat-message").REDIS_CLUSTER_NODES).toBe("10.0.0.1:6379,redis-b:7000");
    const ref = env(messageContainer(manifests), "REDIS_PASSWORD")?.valueFrom?.secretKeyRef;
    expect(ref).toEqual({ name: "chat-redis", key: "redis-password" });
    expect(Buffer.from(data(manifests, "Secret", "chat-redis")["redis-password"]!, "base64").toString()).toBe("s3cret-inline");
  });

  it("sets no password at all for an external Redis without one", async () => {
    const manifests = await render({ values: { "redis-cluster": { enabled: false }, externalRedis: { url: "redis://redis:6379" } } });
    expect(env(messageContainer(manifests), "REDIS_PASSWORD")).toBeUndefined();
    expect(ofKind(manifests, "Secret")).toEqual([]);
  });

  it.each([
    [{ "redis-cluster": { enabled: false } }, "set externalRedis.url or externalRedis.clusterNodes"],
    [{ externalRedis: { url: "redis://elsewhere:6379" } }, "set redis-cluster.enabled=false"],
    [{ "redis-cluster": { enabled: false }, externalRedis: { url: "redis://a:1", clusterNodes: ["b:2"] } }, "not both"],
  ])("refuses an ambiguous Redis configuration %#", async (values, message) => {
    expect(await renderError({ values })).toContain(message);
  });
});

describe("rate limits at the edge", () => {
  it("are off by default, and the edge then gets no Redis settings or password", async () => {
    const manifests = await render();
    const config = data(manifests, "ConfigMap", "chat-edge");
    expect([config.RATE_LIMIT_SEND_PER_MINUTE, config.RATE_LIMIT_PULL_PER_MINUTE, config.RATE_LIMIT_BURST]).toEqual(["0", "0", "0"]);
    expect(redisKeys(config)).toEqual({});
    expect(env(edgeContainer(manifests), "REDIS_PASSWORD")).toBeUndefined();
  });

  it("give the edge the message service's Redis: the same seeds and the same password Secret", async () => {
    const manifests = await render({ values: { edge: { rateLimit: { sendPerMinute: 30, pullPerMinute: 240, burst: 10 } } } });
    const config = data(manifests, "ConfigMap", "chat-edge");
    expect([config.RATE_LIMIT_SEND_PER_MINUTE, config.RATE_LIMIT_PULL_PER_MINUTE, config.RATE_LIMIT_BURST]).toEqual(["30", "240", "10"]);
    expect(config.REDIS_CLUSTER_NODES).toBeTruthy();
    expect(redisKeys(config)).toEqual(redisKeys(data(manifests, "ConfigMap", "chat-message")));
    expect(env(edgeContainer(manifests), "REDIS_PASSWORD")?.valueFrom?.secretKeyRef).toEqual({ name: "chat-redis-cluster", key: "redis-password" });
    expect(env(edgeContainer(manifests), "REDIS_PASSWORD")?.value).toBeUndefined();
  });

  it("give the edge an external Redis's URL, user and password reference when one limit is on", async () => {
    const manifests = await render({
      values: {
        "redis-cluster": { enabled: false },
        externalRedis: { url: "redis://cache.example.com:6379/1", username: "ratelimit", password: "inline-redis-password" },
        edge: { rateLimit: { pullPerMinute: 100 } },
      },
    });
    const config = data(manifests, "ConfigMap", "chat-edge");
    expect(config.REDIS_URL).toBe("redis://cache.example.com:6379/1");
    expect(config.REDIS_USERNAME).toBe("ratelimit");
    expect(env(edgeContainer(manifests), "REDIS_PASSWORD")?.valueFrom?.secretKeyRef).toEqual({ name: "chat-redis", key: "redis-password" });
  });
});

describe("TLS to an external Redis", () => {
  const external = (tls: object, extra: object = {}) => ({
    "redis-cluster": { enabled: false },
    externalRedis: { clusterNodes: ["redis-a:6380", "redis-b:6380"], tls },
    edge: { rateLimit: { sendPerMinute: 60 } },
    ...extra,
  });

  it.each([
    ["a Secret", { caSecret: "redis-ca", caKey: "ca.pem" }, { kind: "secret", name: "redis-ca", key: "ca.pem" }],
    ["a ConfigMap", { caConfigMap: "redis-roots" }, { kind: "configMap", name: "redis-roots", key: "ca.crt" }],
  ])("turns TLS on for both services and mounts the CA from %s", async (_name, ca, source) => {
    const manifests = await render({ values: external({ enabled: true, ...ca }) });
    for (const name of ["chat-edge", "chat-message"]) {
      const config = data(manifests, "ConfigMap", name);
      expect(config.REDIS_TLS, name).toBe("true");
      const spec = find<Workload>(manifests, "Deployment", name).spec.template.spec;
      expect(mountedFile(spec, spec.containers[0]!, config.REDIS_TLS_CA_FILE!), name).toEqual(source);
    }
  });

  it("trusts the public CAs when no bundle is given", async () => {
    const manifests = await render({ values: external({ enabled: true }) });
    expect(data(manifests, "ConfigMap", "chat-message").REDIS_TLS).toBe("true");
    expect(data(manifests, "ConfigMap", "chat-message").REDIS_TLS_CA_FILE).toBeUndefined();
    expect(find<Workload>(manifests, "Deployment", "chat-message").spec.template.spec.volumes?.map((v) => v.name)).toEqual(["tmp"]);
  });

  it.each([
    [external({ caSecret: "redis-ca" }), "a CA is set but TLS is off"],
    [external({ enabled: true, caSecret: "redis-ca", caConfigMap: "redis-roots" }), "not both"],
    [{ externalRedis: { tls: { enabled: true } } }, "the in-chart Redis Cluster serves no TLS"],
  ])("refuses a TLS setup the services would refuse %#", async (values, message) => {
    expect(await renderError({ values })).toContain(message);
  });
});

describe("NetworkPolicies", () => {
  let manifests: Manifest[];
  beforeAll(async () => {
    manifests = await render({ values: { networkPolicy: { enabled: true } } });
  });
  const ingressPeers = (name: string) =>
    (find(manifests, "NetworkPolicy", name).spec as { ingress: { from?: { podSelector?: { matchLabels: Record<string, string> } }[]; ports: { port: string | number }[] }[] }).ingress;
  const podsOf = (selector: Record<string, string>) =>
    pods(manifests).filter((pod) => selects(selector, pod.labels)).map((pod) => pod.owner.metadata.name);

  it("lets only the edge reach the message service's API port", () => {
    const [api, metrics] = ingressPeers("chat-message");
    expect(api!.ports).toEqual([{ port: "http" }]);
    expect(api!.from!.map((peer) => podsOf(peer.podSelector!.matchLabels))).toEqual([["chat-edge"]]);
    expect(metrics!.ports).toEqual([{ port: "metrics" }]);
  });

  it("lets only the message service (and the cluster's own pods) reach Redis while no rate limit is on", () => {
    const policy = find(manifests, "NetworkPolicy", "chat-redis-cluster");
    const selected = podsOf((policy.spec as { podSelector: { matchLabels: Record<string, string> } }).podSelector.matchLabels);
    expect(selected).toEqual(["chat-redis-cluster"]);
    const [clients, peers] = ingressPeers("chat-redis-cluster");
    // Without rate limits the edge has no business with Redis.
    expect(clients!.from!.flatMap((peer) => podsOf(peer.podSelector!.matchLabels))).toEqual(["chat-message"]);
    expect(clients!.ports).toEqual([{ port: 6379 }]);
    expect(podsOf(peers!.from![0]!.podSelector!.matchLabels).sort()).toEqual(["chat-redis-cluster", "chat-redis-cluster-bootstrap"]);
    expect(peers!.ports).toEqual([{ port: 6379 }, { port: 16379 }]);
  });

  it("also lets the edge reach Redis when it keeps rate limits there", async () => {
    const limited = await render({ values: { networkPolicy: { enabled: true }, edge: { rateLimit: { sendPerMinute: 60 } } } });
    const [clients, peers] = (find(limited, "NetworkPolicy", "chat-redis-cluster").spec as {
      ingress: { from: { podSelector: { matchLabels: Record<string, string> } }[]; ports: unknown[] }[];
    }).ingress;
    const podsOfPeer = (selector: Record<string, string>) =>
      pods(limited).filter((pod) => selects(selector, pod.labels)).map((pod) => pod.owner.metadata.name);
    expect(clients!.from.flatMap((peer) => podsOfPeer(peer.podSelector.matchLabels)).sort()).toEqual(["chat-edge", "chat-message"]);
    expect(clients!.ports).toEqual([{ port: 6379 }]);
    expect(peers!.ports).toEqual([{ port: 6379 }, { port: 16379 }]);
  });

  it("leaves the edge's API open to any client unless peers are configured", async () => {
    expect(ingressPeers("chat-edge")[0]).toEqual({ ports: [{ port: "http" }] });
    const restricted = await render({
      values: { networkPolicy: { enabled: true, edgeFrom: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "ingress-nginx" } } }] } },
    });
    const rule = (find(restricted, "NetworkPolicy", "chat-edge").spec as { ingress: { from: unknown[] }[] }).ingress[0]!;
    expect(rule.from).toHaveLength(2); // the ingress controller's namespace, and the helm test pod
  });
});
