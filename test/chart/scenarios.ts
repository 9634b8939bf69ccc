import type { RenderOptions } from "./helm.js";

/** An externally managed Secret the chart must reference but never render. */
export const externalSecret = { name: "redis-credentials", key: "password" };

/** Value combinations every render check runs over. */
export const scenarios: Record<string, RenderOptions> = {
  defaults: {},
  "external Redis URL": {
    values: {
      "redis-cluster": { enabled: false },
      externalRedis: {
        url: "rediss://redis.example.com:6380/0",
        username: "chat",
        existingSecret: externalSecret.name,
        existingSecretPasswordKey: externalSecret.key,
      },
    },
  },
  "external Redis Cluster nodes": {
    values: {
      "redis-cluster": { enabled: false },
      externalRedis: {
        clusterNodes: ["redis-a.example.com:6379", "redis-b.example.com:6379", "redis-c.example.com:6379"],
        password: "inline-password-not-for-configmaps",
      },
    },
  },
  "autoscaling off": {
    values: {
      edge: { autoscaling: { enabled: false }, replicaCount: 3 },
      message: { autoscaling: { enabled: false }, replicaCount: 4 },
    },
  },
  "ingress with TLS": {
    values: {
      edge: {
        ingress: {
          enabled: true,
          className: "nginx",
          annotations: { "cert-manager.io/cluster-issuer": "letsencrypt" },
          hosts: [{ host: "chat.example.com", paths: [{ path: "/", pathType: "Prefix" }] }],
          tls: [{ secretName: "chat-example-tls", hosts: ["chat.example.com"] }],
        },
      },
    },
  },
  "network policy on": {
    values: {
      networkPolicy: {
        enabled: true,
        edgeFrom: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "ingress-nginx" } } }],
      },
    },
  },
  "serviceMonitor on": {
    values: { metrics: { serviceMonitor: { enabled: true, labels: { release: "prometheus" } } } },
  },
  "in-chart Redis with an existing Secret": {
    values: { "redis-cluster": { auth: { existingSecret: externalSecret.name, existingSecretPasswordKey: externalSecret.key } } },
  },
  "kind values": { valuesFiles: ["k8s/kind-values.yaml"] },
  "Kubernetes 1.29": { kubeVersion: "1.29.0" },
};

/** Secrets a scenario may reference without rendering them (they exist in the cluster). */
export function expectedExternalSecrets(options: RenderOptions): string[] {
  const json = JSON.stringify(options.values ?? {});
  return json.includes(externalSecret.name) ? [externalSecret.name] : [];
}
