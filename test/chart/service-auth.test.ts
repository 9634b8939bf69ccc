import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { Registry } from "prom-client";
import { beforeAll, describe, expect, it } from "vitest";
import { parseAllDocuments, stringify } from "yaml";
import { parseServiceKey, parseServiceKeys } from "@chat/runtime";
import { loadConfig as loadEdgeConfig, type EdgeConfig } from "../../services/edge/src/config.js";
import { createServiceCredential } from "../../services/edge/src/rpc/service-credential.js";
import { createCallerAuthenticator } from "../../services/message/src/auth/caller-auth.js";
import { loadConfig as loadMessageConfig, type MessageServiceConfig } from "../../services/message/src/config.js";
import { chartDir, helm, render, renderError, type Manifest } from "./helm.js";
import { startKubeApiStub } from "./kube-api-stub.js";
import { find, mountedFile, ofKind, type Workload } from "./manifests.js";
import { configInPod } from "./pod-environment.js";

const data = (manifests: Manifest[], kind: string, name: string) =>
  (find(manifests, kind, name) as Manifest & { data: Record<string, string> }).data;
const podSpec = (manifests: Manifest[], name: string) => find<Workload>(manifests, "Deployment", name).spec.template.spec;
const secretValue = (manifests: Manifest[], key: string) => Buffer.from(data(manifests, "Secret", "chat-service-auth")[key]!, "base64").toString("utf8");
const serviceAuthKeys = (config: Record<string, string>) => Object.keys(config).filter((key) => key.startsWith("SERVICE_AUTH_"));

const jwt = { auth: { mode: "jwt", jwt: { issuer: "https://id.example.com", audience: ["chat-api"], jwksUrl: "https://id.example.com/jwks.json" } } };

/** Where a component reads its key file from: the Secret and key behind the path its ConfigMap names. */
function keyFileSource(manifests: Manifest[], component: "edge" | "message") {
  const variable = component === "edge" ? "SERVICE_AUTH_KEY_FILE" : "SERVICE_AUTH_KEYS_FILE";
  const spec = podSpec(manifests, `chat-${component}`);
  return mountedFile(spec, spec.containers[0]!, data(manifests, "ConfigMap", `chat-${component}`)[variable]!);
}

describe("caller authentication off (auth.mode none, the default)", () => {
  it("renders no key Secret, no SERVICE_AUTH_* settings and no mount", async () => {
    const manifests = await render();
    expect(ofKind(manifests, "Secret").map((s) => s.metadata.name)).not.toContain("chat-service-auth");
    for (const component of ["edge", "message"]) {
      expect(serviceAuthKeys(data(manifests, "ConfigMap", `chat-${component}`))).toEqual([]);
      expect(podSpec(manifests, `chat-${component}`).volumes?.map((v) => v.name)).not.toContain("service-auth");
    }
    expect(configInPod(manifests, "chat-message", loadMessageConfig).callerAuth).toBeUndefined();
    expect(configInPod(manifests, "chat-edge", loadEdgeConfig).serviceCredential).toBeUndefined();
  });
});

describe("caller authentication with auth.mode jwt", () => {
  let manifests: Manifest[];
  let message: MessageServiceConfig;
  let edge: EdgeConfig;
  beforeAll(async () => {
    manifests = await render({ values: jwt });
    message = configInPod(manifests, "chat-message", loadMessageConfig);
    edge = configInPod(manifests, "chat-edge", loadEdgeConfig);
  });

  it("creates a Secret with a random 256-bit key: the accepted set holds the edge's signing key", () => {
    const keys = parseServiceKeys(secretValue(manifests, "keys"), "keys");
    const signing = parseServiceKey(secretValue(manifests, "signing-key"), "signing-key");
    expect(keys).toEqual([signing]);
    expect(signing.secret.length).toBe(32);
  });

  it("mounts the accepted set into the message service and the signing key into the edge, each only its own, as directories", () => {
    expect(keyFileSource(manifests, "message")).toEqual({ kind: "secret", name: "chat-service-auth", key: "keys" });
    expect(keyFileSource(manifests, "edge")).toEqual({ kind: "secret", name: "chat-service-auth", key: "signing-key" });
    for (const component of ["edge", "message"]) {
      const spec = podSpec(manifests, `chat-${component}`);
      const volume = spec.volumes!.find((v) => v.name === "service-auth")!;
      expect(volume.secret!.items!.map((item) => item.key)).toEqual([component === "edge" ? "signing-key" : "keys"]);
      // A subPath mount would never see the kubelet's updates of the Secret.
      expect(spec.containers[0]!.volumeMounts!.find((m) => m.name === "service-auth")).toEqual({ name: "service-auth", mountPath: "/var/run/chat/service-auth", readOnly: true });
    }
  });

  it("makes the message service require the credential, and keeps every key out of ConfigMaps and env", () => {
    expect(message.callerAuth).toMatchObject({ mode: "required", reloadMs: 10_000, file: expect.stringMatching(/keys$/) });
    expect(message.requireUser).toBe(true);
    const secret = Buffer.from(parseServiceKey(secretValue(manifests, "signing-key"), "k").secret).toString("base64url");
    expect(stringify(manifests.filter((m) => m.kind !== "Secret"))).not.toContain(secret);
  });

  it("gives the edge a credential the message service, as rendered, accepts", async () => {
    const logger = pino({ level: "silent" });
    const credential = createServiceCredential(edge.serviceCredential!, logger);
    const authenticator = createCallerAuthenticator({ ...message.callerAuth!, file: undefined }, { logger, registry: new Registry() });
    await expect(authenticator.check(await credential.header())).resolves.toBeUndefined();
  });

  it("keeps the NetworkPolicy on the message service as a second line", () => {
    expect(ofKind(manifests, "NetworkPolicy").map((p) => p.metadata.name)).toContain("chat-message");
  });

  it("without a cluster to look the Secret up in (helm template), makes a new key on every render", async () => {
    const again = await render({ values: jwt });
    expect(secretValue(again, "keys")).not.toBe(secretValue(manifests, "keys"));
  });
});

/** `helm template --dry-run=server` against a stub API holding `objects`: what an upgrade renders. */
async function renderAgainstCluster(objects: Manifest[], values: object): Promise<Manifest[]> {
  const stub = await startKubeApiStub(objects);
  const dir = mkdtempSync(join(tmpdir(), "chat-values-"));
  try {
    writeFileSync(join(dir, "values.json"), JSON.stringify(values));
    const result = await helm(
      "template", "chat", chartDir, "--namespace", "chat", "--values", join(dir, "values.json"),
      "--dry-run=server", "--disable-openapi-validation", "--kubeconfig", stub.kubeconfig,
    );
    if (!result.ok) throw new Error(`helm template failed:\n${result.stderr}`);
    return parseAllDocuments(result.stdout).map((document) => document.toJS() as Manifest).filter(Boolean);
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await stub.close();
  }
}

describe("the generated key across upgrades", () => {
  it("keeps what the release's Secret holds, keys rotated by hand included", async () => {
    const entry = (id: string) => `${id}=${randomBytes(32).toString("base64url")}`;
    const [current, previous] = [entry("2026-02"), entry("2026-01")];
    const existing: Manifest = {
      apiVersion: "v1",
      kind: "Secret",
      metadata: {
        name: "chat-service-auth",
        namespace: "chat",
        labels: { "app.kubernetes.io/managed-by": "Helm" },
        annotations: { "meta.helm.sh/release-name": "chat", "meta.helm.sh/release-namespace": "chat" },
      },
      type: "Opaque",
      data: { keys: Buffer.from(`${current}\n${previous}`).toString("base64"), "signing-key": Buffer.from(current).toString("base64") },
    };
    const upgraded = await renderAgainstCluster([existing], jwt);
    expect(secretValue(upgraded, "keys")).toBe(`${current}\n${previous}`);
    expect(secretValue(upgraded, "signing-key")).toBe(current);
  });

  it("makes a key when the cluster has none yet (the first install)", async () => {
    const installed = await renderAgainstCluster([], jwt);
    expect(parseServiceKeys(secretValue(installed, "keys"), "keys")).toEqual([parseServiceKey(secretValue(installed, "signing-key"), "k")]);
  });
});

describe("caller authentication settings", () => {
  it("uses an existing Secret without rendering one", async () => {
    const manifests = await render({ values: { ...jwt, serviceAuth: { existingSecret: "chat-keys" } } });
    expect(ofKind(manifests, "Secret").map((s) => s.metadata.name)).not.toContain("chat-service-auth");
    expect(keyFileSource(manifests, "message")).toEqual({ kind: "secret", name: "chat-keys", key: "keys" });
    expect(keyFileSource(manifests, "edge")).toEqual({ kind: "secret", name: "chat-keys", key: "signing-key" });
  });

  it("can be turned on without jwt at the edge, for a message service port others can reach", async () => {
    const manifests = await render({ values: { serviceAuth: { enabled: true, mode: "optional", reloadSeconds: 30 } } });
    expect(data(manifests, "ConfigMap", "chat-edge").AUTH_MODE).toBe("none");
    expect(configInPod(manifests, "chat-message", loadMessageConfig).callerAuth).toMatchObject({ mode: "optional", reloadMs: 30_000 });
    expect(configInPod(manifests, "chat-edge", loadEdgeConfig).serviceCredential?.key.secret.length).toBe(32);
  });

  it("can be turned off with jwt (the NetworkPolicy is then the only guard), still requiring a user", async () => {
    const manifests = await render({ values: { ...jwt, serviceAuth: { enabled: false } } });
    expect(ofKind(manifests, "Secret").map((s) => s.metadata.name)).not.toContain("chat-service-auth");
    expect(serviceAuthKeys(data(manifests, "ConfigMap", "chat-message"))).toEqual([]);
    expect(data(manifests, "ConfigMap", "chat-message").AUTH_REQUIRE_USER).toBe("true");
  });

  it.each([
    [{ serviceAuth: { secret: "x" } }, "additional properties 'secret' not allowed"],
    [{ serviceAuth: { mode: "off" } }, "/serviceAuth/mode"],
    [{ serviceAuth: { enabled: "yes" } }, "/serviceAuth/enabled"],
    [{ serviceAuth: { reloadSeconds: 0 } }, "/serviceAuth/reloadSeconds"],
  ])("rejects %j", async (values, message) => {
    expect(await renderError({ values })).toContain(message);
  });
});
