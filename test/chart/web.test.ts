import { describe, expect, it } from "vitest";
import { loadConfig as loadEdgeConfig } from "../../services/edge/src/config.js";
import { defaultWebRoot } from "../../services/edge/src/web/config.js";
import { chartDir, helm, render, renderError, type Manifest } from "./helm.js";
import { find, validate } from "./manifests.js";
import { podEnvironment } from "./pod-environment.js";

const edgeData = (manifests: Manifest[]) => (find(manifests, "ConfigMap", "chat-edge") as Manifest & { data: Record<string, string> }).data;

/** The edge's web settings as the edge itself reads them from the rendered pod. */
function edgeWeb(manifests: Manifest[]) {
  const pod = podEnvironment(manifests, "chat-edge");
  try {
    return loadEdgeConfig(pod.env).web;
  } finally {
    pod.remove();
  }
}

interface IngressSpec {
  spec: { rules: { host?: string; http: { paths: { path: string; pathType: string; backend: { service: { name: string; port: { name: string } } } }[] } }[] };
}
interface RouteSpec {
  spec: { hostnames?: string[]; rules: { matches: { path: { type: string; value: string } }[]; backendRefs: { name: string; port: number }[] }[] };
}

describe("the web client in the chart", () => {
  it("is on by default (WEB_UI=true), served from the image's built client", async () => {
    const manifests = await render();
    expect(edgeData(manifests).WEB_UI).toBe("true");
    expect(edgeData(manifests).WEB_ROOT).toBeUndefined();
    expect(edgeWeb(manifests)).toEqual({ enabled: true, root: defaultWebRoot });
  });

  it("turns off with edge.web.enabled=false, and refuses anything but a boolean", async () => {
    const manifests = await render({ values: { edge: { web: { enabled: false } } } });
    expect(edgeData(manifests).WEB_UI).toBe("false");
    expect(edgeWeb(manifests).enabled).toBe(false);
    expect(await renderError({ values: { edge: { web: { enabled: "yes" } } } })).toContain("/edge/web/enabled");
    expect(await renderError({ values: { edge: { web: { root: "/srv" } } } })).toMatch(/additional properties 'root' not allowed|root/);
  });

  it("is reachable through the same Ingress as the API: / goes to the edge on the API's host", async () => {
    const manifests = await render({ values: { edge: { ingress: { enabled: true, className: "nginx" } } } });
    const ingress = find<IngressSpec & Manifest>(manifests, "Ingress", "chat-edge");
    validate(ingress);
    expect(ingress.spec.rules).toEqual([
      { host: "chat.example.com", http: { paths: [{ path: "/", pathType: "Prefix", backend: { service: { name: "chat-edge", port: { name: "http" } } } }] } },
    ]);
  });

  it("is reachable through the HTTPRoute: / goes to the edge, beside event streams", async () => {
    const manifests = await render({ values: { edge: { gateway: { enabled: true, parentRefs: [{ name: "public" }], hostnames: ["chat.example.com"] } } } });
    const route = find<RouteSpec & Manifest>(manifests, "HTTPRoute", "chat-edge");
    validate(route);
    const root = route.spec.rules.find((rule) => rule.matches.some((match) => match.path.type === "PathPrefix" && match.path.value === "/"));
    expect(root?.backendRefs).toEqual([{ name: "chat-edge", port: 80 }]);
  });

  it("names the page's address in NOTES.txt while it is on", async () => {
    const notes = async (...sets: string[]) => {
      const result = await helm("install", "chat", chartDir, "--dry-run=client", "--namespace", "chat", ...sets.flatMap((set) => ["--set", set]));
      expect(result.ok, result.stderr).toBe(true);
      return result.stdout.slice(result.stdout.indexOf("NOTES:"));
    };
    expect(await notes()).toContain("The web client is at http://localhost:8080/ (open it in a browser).");
    expect(await notes("edge.web.enabled=false")).not.toContain("web client");
  });
});
