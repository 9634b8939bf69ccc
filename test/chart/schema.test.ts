import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { isMap, isPair, isScalar, parseDocument, type Node, type Pair, type YAMLMap } from "yaml";
import { chartDir, lint, render, renderError } from "./helm.js";

describe("values.schema.json", () => {
  it.each([
    [{ edge: { replicas: 3 } }, "additional properties 'replicas' not allowed"],
    [{ tpyo: true }, "additional properties 'tpyo' not allowed"],
    [{ message: { autoscaling: { enable: false } } }, "additional properties 'enable' not allowed"],
    [{ "redis-cluster": { persistance: { size: "1Gi" } } }, "additional properties 'persistance' not allowed"],
    [{ auth: { jwt: { sharedSecret: "x" } } }, "additional properties 'sharedSecret' not allowed"],
    [{ edge: { rateLimit: { sendsPerMinute: 10 } } }, "additional properties 'sendsPerMinute' not allowed"],
  ])("rejects an unknown key: %j", async (values, message) => {
    expect(await renderError({ values })).toContain(message);
  });

  it.each([
    [{ edge: { port: "8080" } }, "/edge/port"],
    [{ message: { autoscaling: { enabled: "yes" } } }, "/message/autoscaling/enabled"],
    [{ networkPolicy: { enabled: 1 } }, "/networkPolicy/enabled"],
    [{ "redis-cluster": { cluster: { masters: "three" } } }, "/cluster/masters"],
    [{ "redis-cluster": { cluster: { masters: 2 } } }, "/cluster/masters"],
    [{ "redis-cluster": { cluster: { streamNodeMaxBytes: 64 } } }, "/cluster/streamNodeMaxBytes"],
    [{ "redis-cluster": { cluster: { maxmemoryPolicy: "allkeys-lu" } } }, "/cluster/maxmemoryPolicy"],
    [{ "redis-cluster": { cluster: { maxmemory: "400 MB" } } }, "/cluster/maxmemory"],
    [{ message: { config: { retention: { maxMessages: -1 } } } }, "/message/config/retention/maxMessages"],
    [{ message: { config: { retention: { days: 3 } } } }, "additional properties 'days' not allowed"],
    [{ edge: { autoscaling: { targetCPUUtilizationPercentage: 0 } } }, "/edge/autoscaling/targetCPUUtilizationPercentage"],
    [{ auth: { mode: "oauth" } }, "/auth/mode"],
    [{ auth: { mode: true } }, "/auth/mode"],
    [{ auth: { jwt: { audience: "chat-api" } } }, "/auth/jwt/audience"],
    [{ auth: { jwt: { algorithms: ["none"] } } }, "/auth/jwt/algorithms/0"],
    [{ auth: { jwt: { jwksUrl: "id.example.com/jwks" } } }, "/auth/jwt/jwksUrl"],
    [{ auth: { jwt: { clockSkewSeconds: 301 } } }, "/auth/jwt/clockSkewSeconds"],
    [{ edge: { rateLimit: { sendPerMinute: -1 } } }, "/edge/rateLimit/sendPerMinute"],
    [{ edge: { config: { trustedProxyHops: 11 } } }, "/edge/config/trustedProxyHops"],
    [{ edge: { config: { rpcRetryAttempts: 0 } } }, "/edge/config/rpcRetryAttempts"],
    [{ message: { config: { maxInFlight: 0 } } }, "/message/config/maxInFlight"],
    [{ externalRedis: { tls: { enabled: "yes" } } }, "/externalRedis/tls/enabled"],
  ])("rejects a wrong type or range: %j", async (values, path) => {
    const error = await renderError({ values });
    expect(error).toContain(path);
  });

  it("rejects credentials inside externalRedis.url (they belong in a Secret)", async () => {
    const values = { "redis-cluster": { enabled: false }, externalRedis: { url: "redis://user:hunter2@redis:6379" } };
    expect(await renderError({ values })).toContain("/externalRedis/url");
  });

  it("accepts every value file this repository ships", async () => {
    expect((await lint({ valuesFiles: ["k8s/kind-values.yaml"] })).ok).toBe(true);
    await render({ valuesFiles: [join("charts/chat/values.yaml")] });
  });
});

/**
 * Keys without a `# --` comment (helm-docs style): a documented map counts as one value; an
 * undocumented map is a section, whose keys must each be documented.
 */
function undocumented(map: YAMLMap, path: string, commentOfFirst?: string | null): string[] {
  return map.items.flatMap((item, index) => {
    if (!isPair(item)) return [];
    const pair = item as Pair<Node, Node>;
    const key = isScalar(pair.key) ? String(pair.key.value) : "?";
    const keyPath = path ? `${path}.${key}` : key;
    const comment = pair.key?.commentBefore ?? (index === 0 ? commentOfFirst : undefined);
    if (/(^|\n)\s*-- /.test(comment ?? "")) return [];
    if (isMap(pair.value) && pair.value.items.length > 0) {
      return undocumented(pair.value, keyPath, pair.value.commentBefore);
    }
    return [keyPath];
  });
}

describe.each(["values.yaml", "charts/redis-cluster/values.yaml"])("%s", (file) => {
  it("documents every value with a `# --` comment", () => {
    const document = parseDocument(readFileSync(join(chartDir, file), "utf8"));
    const rootMap = document.contents as YAMLMap;
    expect(rootMap.items.length).toBeGreaterThan(5);
    expect(undocumented(rootMap, "", document.commentBefore)).toEqual([]);
  });
});
