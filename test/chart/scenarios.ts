import type { RenderOptions } from "./helm.js";

/** An externally managed Secret the chart must reference but never render. */
export const externalSecret = { name: "redis-credentials", key: "password" };
/** Other objects that exist in the cluster: a test user's token, a CA bundle for Redis. */
export const externalTokenSecret = { name: "chat-test-token", key: "token" };
export const externalCaSecret = { name: "redis-ca-bundle", key: "ca.pem" };
export const externalCaConfigMap = { name: "redis-ca-roots", key: "ca.crt" };
/** An inline HS256 secret: it must reach the edge through a Secret only. */
export const inlineJwtSecret = "inline-jwt-secret-not-for-configmaps-0123456789";

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
  "auth jwt with an inline secret, ingress and a test token": {
    values: {
      auth: { mode: "jwt", jwt: { issuer: "https://id.example.com", audience: ["chat-api", "chat-admin"], secret: { value: inlineJwtSecret } } },
      edge: { ingress: { enabled: true, className: "nginx" } },
      tests: { tokenSecret: externalTokenSecret },
    },
  },
  "auth jwt with a JWKS and rate limits": {
    values: {
      auth: { mode: "jwt", jwt: { issuer: "https://id.example.com", audience: ["chat-api"], jwksUrl: "https://id.example.com/.well-known/jwks.json", algorithms: ["RS256", "ES256"] } },
      edge: { rateLimit: { sendPerMinute: 120, pullPerMinute: 600, burst: 20 } },
    },
  },
  "rate limits on an external Redis Cluster over TLS (CA from a Secret)": {
    values: {
      "redis-cluster": { enabled: false },
      externalRedis: {
        clusterNodes: ["redis-a.example.com:6380", "redis-b.example.com:6380"],
        username: "chat",
        existingSecret: externalSecret.name,
        existingSecretPasswordKey: externalSecret.key,
        tls: { enabled: true, caSecret: externalCaSecret.name, caKey: externalCaSecret.key },
      },
      edge: { rateLimit: { sendPerMinute: 60 } },
      networkPolicy: { enabled: true },
    },
  },
  "rate limits on an external rediss:// URL (CA from a ConfigMap)": {
    values: {
      "redis-cluster": { enabled: false },
      externalRedis: { url: "rediss://redis.example.com:6380/0", tls: { caConfigMap: externalCaConfigMap.name } },
      edge: { rateLimit: { pullPerMinute: 300 } },
    },
  },
  "kind values": { valuesFiles: ["k8s/kind-values.yaml"] },
  "Kubernetes 1.29": { kubeVersion: "1.29.0" },
};

/** Secrets a scenario may reference without rendering them (they exist in the cluster). */
export function expectedExternalSecrets(options: RenderOptions): string[] {
  const json = JSON.stringify(options.values ?? {});
  return [externalSecret, externalTokenSecret, externalCaSecret].map((s) => s.name).filter((name) => json.includes(`"${name}"`));
}

/** ConfigMaps a scenario may reference without rendering them. */
export function expectedExternalConfigMaps(options: RenderOptions): string[] {
  const json = JSON.stringify(options.values ?? {});
  return json.includes(`"${externalCaConfigMap.name}"`) ? [externalCaConfigMap.name] : [];
}
