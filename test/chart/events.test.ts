import { describe, expect, it } from "vitest";
import { loadConfig as loadEdgeConfig } from "../../services/edge/src/config.js";
import { loadConfig as loadMessageConfig } from "../../services/message/src/config.js";
import { render, renderError, type Manifest } from "./helm.js";
import { find, ofKind, validate } from "./manifests.js";
import { configInPod } from "./pod-environment.js";

interface IngressSpec {
  spec: { rules: { host?: string; http: { paths: { path: string; pathType: string; backend: { service: { name: string } } }[] } }[] };
  metadata: { name: string; annotations?: Record<string, string> };
}
interface RouteSpec {
  spec: { parentRefs: unknown[]; hostnames?: string[]; rules: { matches: { path: { type: string; value: string } }[]; timeouts?: { request?: string }; backendRefs: { name: string; port: number }[] }[] };
}

describe("event streams in the chart", () => {
  it("give both services the stream settings, one chat limit for both", async () => {
    const manifests = await render({ values: { edge: { events: { heartbeatMs: 20_000, queueLimit: 300, maxStreams: 5_000, maxChats: 50 } }, message: { config: { subscribe: { queueLimit: 500, checkIntervalMs: 2_000 } } } } });
    expect(configInPod(manifests, "chat-edge", loadEdgeConfig).events).toEqual({ heartbeatMs: 20_000, retryMs: 2_000, queueLimit: 300, maxStreams: 5_000, maxChats: 50 });
    const message = configInPod(manifests, "chat-message", loadMessageConfig);
    expect(message.subscribe).toEqual({ queueLimit: 500, heartbeatMs: 15_000, checkIntervalMs: 2_000 });
    expect(message.limits.maxSubscribeChats).toBe(50);
  });

  it("route /api/events through ingress-nginx without buffering or the 60 s read timeout", async () => {
    const manifests = await render({ values: { edge: { ingress: { enabled: true, className: "nginx", nginx: { limitConnections: 20 } } } } });
    const events = find<IngressSpec>(manifests, "Ingress", "chat-edge-events");
    expect(events.metadata.annotations).toMatchObject({
      "nginx.ingress.kubernetes.io/proxy-read-timeout": "3600",
      "nginx.ingress.kubernetes.io/proxy-send-timeout": "3600",
      "nginx.ingress.kubernetes.io/proxy-buffering": "off",
      // The per-client limits apply to streams too.
      "nginx.ingress.kubernetes.io/limit-connections": "20",
    });
    expect(events.spec.rules[0]!.http.paths).toEqual([{ path: "/api/events", pathType: "Exact", backend: { service: { name: "chat-edge", port: { name: "http" } } } }]);
    // The API's own Ingress keeps the controller's defaults.
    expect(find<IngressSpec>(manifests, "Ingress", "chat-edge").metadata.annotations?.["nginx.ingress.kubernetes.io/proxy-buffering"]).toBeUndefined();
    for (const ingress of ofKind(manifests, "Ingress")) validate(ingress);
    expect(ofKind(await render(), "Ingress")).toEqual([]);
  });

  it("renders a Gateway API HTTPRoute with no timeout for event streams", async () => {
    const manifests = await render({
      values: { edge: { gateway: { enabled: true, parentRefs: [{ name: "public", namespace: "gateway-system" }], hostnames: ["chat.example.com"] } } },
    });
    const route = find<RouteSpec & Manifest>(manifests, "HTTPRoute", "chat-edge");
    validate(route);
    expect(route.spec.parentRefs).toEqual([{ name: "public", namespace: "gateway-system" }]);
    expect(route.spec.hostnames).toEqual(["chat.example.com"]);
    expect(route.spec.rules.map((rule) => [rule.matches[0]!.path.value, rule.timeouts?.request])).toEqual([
      ["/api/events", "0s"],
      ["/", "30s"],
    ]);
    expect(route.spec.rules.every((rule) => rule.backendRefs[0]!.name === "chat-edge" && rule.backendRefs[0]!.port === 80)).toBe(true);
    expect(await renderError({ values: { edge: { gateway: { enabled: true } } } })).toMatch(/edge.gateway.enabled needs edge.gateway.parentRefs/);
    expect(await renderError({ values: { edge: { gateway: { enabled: true, parentRefs: [{ name: "g" }], requestTimeout: "soon" } } } })).toContain("/edge/gateway/requestTimeout");
  });
});
