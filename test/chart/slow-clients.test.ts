import { describe, expect, it } from "vitest";
import { loadConfig as loadEdgeConfig } from "../../services/edge/src/config.js";
import { loadConfig as loadMessageConfig } from "../../services/message/src/config.js";
import { render, renderError, type Manifest } from "./helm.js";
import { find } from "./manifests.js";
import { configInPod } from "./pod-environment.js";

const ingressAnnotations = (manifests: Manifest[]) => find(manifests, "Ingress", "chat-edge").metadata.annotations;
const ingress = (values: object = {}) => ({ edge: { ingress: { enabled: true, className: "nginx", ...values } } });

describe("client deadlines and connection limits", () => {
  it("give both services 10 s for headers, 30 s for a request, the service 65 s for idle connections, by default", async () => {
    const manifests = await render();
    expect(configInPod(manifests, "chat-edge", loadEdgeConfig).clientDeadlines).toEqual({ headersTimeoutMs: 10_000, requestTimeoutMs: 30_000 });
    expect(configInPod(manifests, "chat-message", loadMessageConfig).listener).toEqual({ headersTimeoutMs: 10_000, requestTimeoutMs: 30_000, idleTimeoutMs: 65_000 });
  });

  it("pass edge.connections and message.connections on as set", async () => {
    const manifests = await render({
      values: {
        edge: { connections: { headersTimeoutMs: 5_000, requestTimeoutMs: 20_000 } },
        message: { connections: { headersTimeoutMs: 3_000, requestTimeoutMs: 15_000, idleTimeoutMs: 120_000 } },
      },
    });
    expect(configInPod(manifests, "chat-edge", loadEdgeConfig).clientDeadlines).toEqual({ headersTimeoutMs: 5_000, requestTimeoutMs: 20_000 });
    expect(configInPod(manifests, "chat-message", loadMessageConfig).listener).toEqual({ headersTimeoutMs: 3_000, requestTimeoutMs: 15_000, idleTimeoutMs: 120_000 });
  });

  it("refuses deadlines out of range or unknown keys", async () => {
    expect(await renderError({ values: { edge: { connections: { headersTimeoutMs: 0 } } } })).toContain("/edge/connections/headersTimeoutMs");
    expect(await renderError({ values: { message: { connections: { idleMs: 1 } } } })).toContain("additional properties 'idleMs' not allowed");
  });

  it("renders no per-client limits by default, and tells ingress-nginx to buffer request bodies", async () => {
    expect(ingressAnnotations(await render({ values: ingress() }))).toEqual({ "nginx.ingress.kubernetes.io/proxy-request-buffering": "on" });
  });

  it("renders edge.ingress.nginx as ingress-nginx annotations, strings as Kubernetes needs them", async () => {
    const manifests = await render({ values: ingress({ nginx: { limitConnections: 20, limitRps: 10, limitBurstMultiplier: 3, requestBuffering: false } }) });
    expect(ingressAnnotations(manifests)).toEqual({
      "nginx.ingress.kubernetes.io/limit-connections": "20",
      "nginx.ingress.kubernetes.io/limit-rps": "10",
      "nginx.ingress.kubernetes.io/limit-burst-multiplier": "3",
      "nginx.ingress.kubernetes.io/proxy-request-buffering": "off",
    });
  });

  it("lets edge.ingress.annotations win over the rendered ones and keeps the rest", async () => {
    const annotations = { "nginx.ingress.kubernetes.io/limit-rps": "50", "cert-manager.io/cluster-issuer": "letsencrypt" };
    const manifests = await render({ values: ingress({ annotations, nginx: { limitRps: 10, limitConnections: 20 } }) });
    expect(ingressAnnotations(manifests)).toEqual({
      ...annotations,
      "nginx.ingress.kubernetes.io/limit-connections": "20",
      "nginx.ingress.kubernetes.io/proxy-request-buffering": "on",
    });
  });

  it("refuses a negative limit", async () => {
    expect(await renderError({ values: ingress({ nginx: { limitRps: -1 } }) })).toContain("/edge/ingress/nginx/limitRps");
  });
});

describe("repeated failures in the logs", () => {
  it("are logged once per 10 s and kind by default, and per edge and message logRepeatIntervalMs when set", async () => {
    const defaults = await render();
    expect(configInPod(defaults, "chat-edge", loadEdgeConfig).logRepeatIntervalMs).toBe(10_000);
    expect(configInPod(defaults, "chat-message", loadMessageConfig).logRepeatIntervalMs).toBe(10_000);
    const set = await render({ values: { edge: { logRepeatIntervalMs: 60_000 }, message: { logRepeatIntervalMs: 0 } } });
    expect(configInPod(set, "chat-edge", loadEdgeConfig).logRepeatIntervalMs).toBe(60_000);
    expect(configInPod(set, "chat-message", loadMessageConfig).logRepeatIntervalMs).toBe(0);
  });
});

describe("the longest token lifetime", () => {
  const jwt = (extra: object) => ({ auth: { mode: "jwt", jwt: { issuer: "https://id.example.com", audience: ["chat-api"], jwksUrl: "https://id.example.com/jwks.json", ...extra } } });

  it("is unlimited by default and reaches the edge as set", async () => {
    const unlimited = configInPod(await render({ values: jwt({}) }), "chat-edge", loadEdgeConfig).auth;
    expect(unlimited).toMatchObject({ mode: "jwt", maxTokenLifetimeSeconds: 0 });
    const capped = configInPod(await render({ values: jwt({ maxTokenLifetimeSeconds: 86_400 }) }), "chat-edge", loadEdgeConfig).auth;
    expect(capped).toMatchObject({ mode: "jwt", maxTokenLifetimeSeconds: 86_400 });
  });

  it("refuses a negative lifetime", async () => {
    expect(await renderError({ values: jwt({ maxTokenLifetimeSeconds: -1 }) })).toContain("/auth/jwt/maxTokenLifetimeSeconds");
  });
});
