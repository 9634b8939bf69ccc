import { beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { loadConfig as loadEdgeConfig } from "../../services/edge/src/config.js";
import { render, renderError, type Manifest } from "./helm.js";
import { env, find, mountedFile, ofKind, type Container, type Workload } from "./manifests.js";
import { configInPod } from "./pod-environment.js";

const data = (manifests: Manifest[], kind: string, name: string) =>
  (find(manifests, kind, name) as Manifest & { data: Record<string, string> }).data;
const podSpec = (manifests: Manifest[], name: string) => find<Workload>(manifests, "Deployment", name).spec.template.spec;
const testPod = (manifests: Manifest[]) => (find(manifests, "Pod", "chat-test-send-pull").spec as { containers: Container[] }).containers[0]!;

const issuer = "https://id.example.com";
const sharedSecret = "a-shared-hs256-secret-that-is-long-enough-for-hmac";
const jwt = (overrides: object) => ({ auth: { mode: "jwt", jwt: { issuer, audience: ["chat-api", "chat-admin"], ...overrides } } });

/** The edge's authentication settings as the edge itself reads them from the rendered pod. */
const edgeAuth = (manifests: Manifest[]) => configInPod(manifests, "chat-edge", loadEdgeConfig).auth;

describe("authentication off (the default)", () => {
  let manifests: Manifest[];
  beforeAll(async () => {
    manifests = await render();
  });

  it("runs the edge without authentication and the message service without requiring a user", () => {
    expect(data(manifests, "ConfigMap", "chat-edge").AUTH_MODE).toBe("none");
    expect(Object.keys(data(manifests, "ConfigMap", "chat-edge")).filter((key) => key.startsWith("AUTH_"))).toEqual(["AUTH_MODE"]);
    expect(data(manifests, "ConfigMap", "chat-message").AUTH_REQUIRE_USER).toBe("false");
    expect(edgeAuth(manifests)).toEqual({ mode: "none" });
  });

  it("tells the helm test pod so, and hands it no token even when a token Secret is named", async () => {
    expect(env(testPod(manifests), "EDGE_AUTH_MODE")?.value).toBe("none");
    const named = await render({ values: { tests: { tokenSecret: { name: "chat-test-token" } } } });
    expect(env(testPod(named), "EDGE_TOKEN")).toBeUndefined();
  });
});

describe("authentication with an HS256 shared secret", () => {
  let manifests: Manifest[];
  beforeAll(async () => {
    manifests = await render({ values: jwt({ secret: { value: sharedSecret } }) });
  });

  it("configures the edge for jwt, and the edge reads the secret from a file mounted from the chart's Secret", () => {
    const config = data(manifests, "ConfigMap", "chat-edge");
    expect(config).toMatchObject({ AUTH_MODE: "jwt", AUTH_ISSUER: issuer, AUTH_AUDIENCE: "chat-api,chat-admin", AUTH_CLOCK_SKEW_SECONDS: "30" });
    const source = mountedFile(podSpec(manifests, "chat-edge"), podSpec(manifests, "chat-edge").containers[0]!, config.AUTH_JWT_SECRET_FILE!);
    expect(source).toEqual({ kind: "secret", name: "chat-auth", key: "jwt-secret" });
    expect(Buffer.from(data(manifests, "Secret", "chat-auth")["jwt-secret"]!, "base64").toString()).toBe(sharedSecret);
    expect(edgeAuth(manifests)).toMatchObject({
      mode: "jwt",
      keys: { kind: "secret", secret: new TextEncoder().encode(sharedSecret) },
      algorithms: ["HS256"],
      issuer,
      audience: ["chat-api", "chat-admin"],
    });
  });

  it("never puts the secret in a ConfigMap, an environment variable or any object but its Secret", () => {
    for (const configMap of ofKind(manifests, "ConfigMap")) expect(stringify(configMap)).not.toContain(sharedSecret);
    expect(stringify(manifests.filter((m) => m.kind !== "Secret"))).not.toContain(sharedSecret);
    expect(env(podSpec(manifests, "chat-edge").containers[0]!, "AUTH_JWT_SECRET")).toBeUndefined();
    expect(data(manifests, "ConfigMap", "chat-edge").AUTH_JWT_SECRET).toBeUndefined();
  });

  it("makes the message service refuse calls without a user, and mounts the secret into the edge only", () => {
    expect(data(manifests, "ConfigMap", "chat-message").AUTH_REQUIRE_USER).toBe("true");
    const volumes = podSpec(manifests, "chat-message").volumes ?? [];
    expect(volumes.filter((v) => v.secret?.secretName === "chat-auth")).toEqual([]);
  });

  it("turns the NetworkPolicies on, so only the edge can name the user to the message service", () => {
    expect(ofKind(manifests, "NetworkPolicy").map((p) => p.metadata.name).sort()).toEqual(["chat-edge", "chat-message", "chat-redis-cluster"]);
  });

  it("references an existing Secret without rendering one", async () => {
    const existing = await render({ values: jwt({ secret: { existingSecret: "idp-hmac", existingSecretKey: "key" } }) });
    expect(ofKind(existing, "Secret").map((s) => s.metadata.name)).not.toContain("chat-auth");
    const spec = podSpec(existing, "chat-edge");
    expect(mountedFile(spec, spec.containers[0]!, data(existing, "ConfigMap", "chat-edge").AUTH_JWT_SECRET_FILE!)).toEqual({
      kind: "secret",
      name: "idp-hmac",
      key: "key",
    });
  });
});

describe("authentication with a JWKS", () => {
  let manifests: Manifest[];
  beforeAll(async () => {
    manifests = await render({ values: jwt({ jwksUrl: "https://id.example.com/jwks.json", algorithms: ["ES256"], clockSkewSeconds: 5 }) });
  });

  it("passes the JWKS URL and algorithms, and mounts no secret", () => {
    const config = data(manifests, "ConfigMap", "chat-edge");
    expect(config).toMatchObject({ AUTH_JWKS_URL: "https://id.example.com/jwks.json", AUTH_ALGORITHMS: "ES256", AUTH_CLOCK_SKEW_SECONDS: "5" });
    expect(config.AUTH_JWT_SECRET_FILE).toBeUndefined();
    expect(ofKind(manifests, "Secret").map((s) => s.metadata.name)).not.toContain("chat-auth");
    expect(podSpec(manifests, "chat-edge").volumes?.filter((v) => v.name === "auth-jwt-secret")).toEqual([]);
    expect(edgeAuth(manifests)).toMatchObject({ mode: "jwt", keys: { kind: "jwks" }, algorithms: ["ES256"], clockSkewSeconds: 5 });
    expect(data(manifests, "ConfigMap", "chat-message").AUTH_REQUIRE_USER).toBe("true");
  });

  it("renders no NetworkPolicy when they are turned off explicitly (the user still is required)", async () => {
    const off = await render({ values: { ...jwt({ jwksUrl: "https://id.example.com/jwks.json" }), networkPolicy: { enabled: false } } });
    expect(ofKind(off, "NetworkPolicy")).toEqual([]);
    expect(data(off, "ConfigMap", "chat-message").AUTH_REQUIRE_USER).toBe("true");
  });

  it("hands the helm test pod the token of tests.tokenSecret, and tells it auth is on", async () => {
    const withToken = await render({
      values: { ...jwt({ jwksUrl: "https://id.example.com/jwks.json" }), tests: { tokenSecret: { name: "chat-test-token", key: "jwt" } } },
    });
    const pod = testPod(withToken);
    expect(env(pod, "EDGE_AUTH_MODE")?.value).toBe("jwt");
    expect(env(pod, "EDGE_TOKEN")).toEqual({ name: "EDGE_TOKEN", valueFrom: { secretKeyRef: { name: "chat-test-token", key: "jwt" } } });
    expect(env(testPod(manifests), "EDGE_TOKEN")).toBeUndefined();
  });
});

describe("an incomplete jwt setup fails the install with a message saying what to set", () => {
  it.each([
    [{ auth: { mode: "jwt", jwt: { audience: ["chat-api"], jwksUrl: "https://id.example.com/jwks" } } }, "auth.mode=jwt needs auth.jwt.issuer"],
    [{ auth: { mode: "jwt", jwt: { issuer, jwksUrl: "https://id.example.com/jwks" } } }, "auth.mode=jwt needs auth.jwt.audience"],
    [jwt({}), "needs exactly one source of signing keys"],
    [jwt({ jwksUrl: "https://id.example.com/jwks", secret: { value: sharedSecret } }), "auth.jwt.jwksUrl, auth.jwt.secret.value are all set"],
    [jwt({ secret: { value: sharedSecret, existingSecret: "idp-hmac" } }), "needs exactly one source of signing keys"],
    [jwt({ secret: { value: "too-short" } }), "must be at least 32 bytes"],
    [jwt({ jwksUrl: "https://id.example.com/jwks", algorithms: ["HS256"] }), "HS256 needs a shared secret"],
    [jwt({ secret: { value: sharedSecret }, algorithms: ["RS256"] }), "RS256 needs a JWKS"],
  ])("%#: %j", async (values, message) => {
    expect(await renderError({ values })).toContain(message);
  });
});
