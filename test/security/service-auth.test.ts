import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Code, ConnectError, createClient, type Client, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport, Http2SessionManager } from "@connectrpc/connect-node";
import { encodeChatUser, MessageService } from "@chat/proto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runUntilExit, startService, startStack, type ServiceProcess, type Stack } from "../harness/services.js";
import { waitFor } from "../harness/wait.js";
import { restClient, type RestClient } from "../support/http.js";
import { uniqueChat } from "../support/ids.js";
import { sample } from "../support/metrics.js";
import { serviceKey, signedAssertion, tampered, type TestServiceKey } from "../support/service-keys.js";
import { bearer, signToken, testAudience, testIssuer, testSecret } from "../support/tokens.js";

const jwtEdge = { AUTH_MODE: "jwt", AUTH_ISSUER: testIssuer, AUTH_AUDIENCE: testAudience, AUTH_JWT_SECRET: testSecret };
const seconds = () => Math.floor(Date.now() / 1000);

/** The code a call fails with; undefined when it succeeds. */
const codeOf = (call: Promise<unknown>) =>
  call.then(
    () => undefined,
    (error: unknown) => ConnectError.from(error).code,
  );

const sessions: Http2SessionManager[] = [];
function h2(baseUrl: string) {
  const manager = new Http2SessionManager(baseUrl);
  sessions.push(manager);
  return manager;
}

const transports: [string, (baseUrl: string) => Transport][] = [
  ["Connect JSON over HTTP/1.1", (baseUrl) => createConnectTransport({ baseUrl, httpVersion: "1.1" })],
  ["Connect binary over HTTP/1.1 (as the edge calls it)", (baseUrl) => createConnectTransport({ baseUrl, httpVersion: "1.1", useBinaryFormat: true })],
  ["Connect binary over h2c", (baseUrl) => createConnectTransport({ baseUrl, httpVersion: "2", useBinaryFormat: true, sessionManager: h2(baseUrl) })],
  ["gRPC over h2c", (baseUrl) => createGrpcTransport({ baseUrl, sessionManager: h2(baseUrl) })],
  ["gRPC-Web over HTTP/1.1", (baseUrl) => createGrpcWebTransport({ baseUrl, httpVersion: "1.1" })],
];

/** Credentials a caller other than the edge could present, each to be refused. */
function forgedCredentials(accepted: TestServiceKey): [string, () => Promise<string | undefined>][] {
  return [
    ["no credential", async () => undefined],
    ["an assertion signed with an unknown key", () => signedAssertion(serviceKey("unknown"))],
    ["an assertion naming an accepted kid, signed with another secret", () => signedAssertion(serviceKey(accepted.id))],
    ["an expired assertion", () => signedAssertion(accepted, { iat: seconds() - 120, exp: seconds() - 60 })],
    ["an assertion for another audience", () => signedAssertion(accepted, { aud: "chat-edge" })],
    ["an assertion from another issuer", () => signedAssertion(accepted, { iss: "chat-bot" })],
    [
      "a tampered assertion (a later exp, the signature kept)",
      async () => tampered(await signedAssertion(accepted), { iss: "chat-edge", aud: "chat-message", iat: seconds(), exp: seconds() + 86_400 }),
    ],
    ["a user's bearer token for the edge", async () => `Bearer ${await signToken("bob")}`],
  ];
}

afterAll(() => {
  for (const manager of sessions) manager.abort();
});

describe("a message service that requires the edge's credential", () => {
  const accepted = serviceKey("current");
  let message: ServiceProcess;

  beforeAll(async () => {
    message = await startService("message", { SERVICE_AUTH_KEYS: accepted.entry, AUTH_REQUIRE_USER: "true" });
  });
  afterAll(async () => {
    await message?.stop();
  });

  it.each(transports)("%s: refuses forged calls as Unauthenticated (Send, Pull, SendBatch) and stores nothing", async (_name, transport) => {
    const client = createClient(MessageService, transport(message.url));
    const { a: bob, b: carol, chat } = uniqueChat();
    const asBob = { "chat-user": encodeChatUser(bob) };
    for (const [credential, make] of forgedCredentials(accepted)) {
      const authorization = await make();
      const headers = authorization === undefined ? asBob : { ...asBob, authorization };
      const codes = {
        send: await codeOf(client.send({ chat, text: `as bob, with ${credential}`, sender: bob }, { headers })),
        pull: await codeOf(client.pull({ chat }, { headers })),
        sendBatch: await codeOf(
          client.sendBatch({ items: [{ request: { chat, text: `batched, with ${credential}`, sender: bob }, user: bob }] }, { headers: authorization ? { authorization } : {} }),
        ),
      };
      expect({ credential, codes }).toEqual({ credential, codes: { send: Code.Unauthenticated, pull: Code.Unauthenticated, sendBatch: Code.Unauthenticated } });
    }
    // A refusal is the caller's doing: nothing for the service's error log.
    expect(message.logs.filter((line) => Number(line.level) >= 50)).toEqual([]);
    // The edge's credential works on this same transport, and shows nothing was stored.
    const edge = { authorization: await signedAssertion(accepted) };
    expect((await client.pull({ chat }, { headers: { ...edge, "chat-user": encodeChatUser(carol) } })).messages).toEqual([]);
    await client.send({ chat, text: "with the edge's credential", sender: bob }, { headers: { ...edge, ...asBob } });
    expect((await client.pull({ chat }, { headers: { ...edge, "chat-user": encodeChatUser(carol) } })).messages.map((m) => m.text)).toEqual([
      "with the edge's credential",
    ]);
  });

  it("trusts the users of an authenticated SendBatch's items, and still applies each one's rules", async () => {
    const client = createClient(MessageService, createConnectTransport({ baseUrl: message.url, httpVersion: "1.1", useBinaryFormat: true }));
    const { a: bob, b: carol, chat } = uniqueChat();
    const edge = { authorization: await signedAssertion(accepted) };
    const { results } = await client.sendBatch(
      {
        items: [
          { request: { chat, text: "from bob", sender: bob }, user: bob },
          { request: { chat, text: "carol posing as bob", sender: bob }, user: carol },
          { request: { chat, text: "no user", sender: carol } },
        ],
      },
      { headers: edge },
    );
    expect(results.map((result) => (result.result.case === "error" ? result.result.value.code : "ok"))).toEqual(["ok", Code.PermissionDenied, Code.Unauthenticated]);
    const page = await client.pull({ chat }, { headers: { ...edge, "chat-user": encodeChatUser(carol) } });
    expect(page.messages.map((m) => m.text)).toEqual(["from bob"]);
  });

  it("keeps the health probes open to the kubelet, without a credential", async () => {
    for (const path of ["/healthz", "/readyz"]) expect((await fetch(`${message.url}${path}`)).status).toBe(200);
  });

  it("counts refusals by reason on its metrics endpoint", async () => {
    const client = createClient(MessageService, createConnectTransport({ baseUrl: message.url, httpVersion: "1.1" }));
    const before = (await sample(message.metricsUrl, "caller_credentials_refused_total", { reason: "unknown_key" })) ?? 0;
    const { chat } = uniqueChat();
    expect(await codeOf(client.pull({ chat }, { headers: { authorization: await signedAssertion(serviceKey("stolen-laptop")) } }))).toBe(Code.Unauthenticated);
    expect(await sample(message.metricsUrl, "caller_credentials_refused_total", { reason: "unknown_key" })).toBe(before + 1);
  });
});

describe.each([
  ["HTTP/1.1, sends in SendBatch calls", { RPC_HTTP_VERSION: "1.1" }, "SendBatch"],
  ["HTTP/1.1, one Send call per message", { RPC_HTTP_VERSION: "1.1", RPC_SEND_BATCH_MAX: "1" }, "Send"],
  ["HTTP/2, sends in SendBatch calls", { RPC_HTTP_VERSION: "2" }, "SendBatch"],
  ["HTTP/2, one Send call per message", { RPC_HTTP_VERSION: "2", RPC_SEND_BATCH_MAX: "1" }, "Send"],
] as const)("the edge's own calls (%s)", (_name, rpcEnv, sendMethod) => {
  const key = serviceKey("edge-key");
  let stack: Stack;
  let api: RestClient;

  beforeAll(async () => {
    stack = await startStack({ SERVICE_AUTH_KEYS: key.entry, AUTH_REQUIRE_USER: "true" }, { ...jwtEdge, ...rpcEnv, SERVICE_AUTH_KEY: key.entry });
    api = restClient(stack.edge.url);
  });
  afterAll(async () => {
    await api?.close();
    await stack?.stop();
  });

  it("are accepted: users send and pull through the edge as before", async () => {
    const { a, b, chat } = uniqueChat();
    const [tokenA, tokenB] = [bearer(await signToken(a)), bearer(await signToken(b))];
    const sends = await Promise.all(
      Array.from({ length: 20 }, (_, i) => api.call("POST", "/api/send", { json: { chat, text: `m${i}`, sender: i % 2 ? b : a }, headers: i % 2 ? tokenB : tokenA })),
    );
    expect(sends.map((reply) => reply.status)).toEqual(sends.map(() => 200));
    const pulled = await api.call("GET", "/api/pull", { json: { chat, limit: 50 }, headers: tokenB });
    expect(pulled.status).toBe(200);
    expect(pulled.body.messages.map((m: { text: string }) => m.text).sort()).toEqual(sends.map((_, i) => `m${i}`).sort());
    // The sends reached the service in the calls this setting makes, each authenticated.
    expect(await sample(stack.message.metricsUrl, "rpc_server_duration_seconds_count", { rpc_method: sendMethod, rpc_code: "ok" })).toBeGreaterThan(0);
    // No call was refused: the counter has no series at all.
    expect(await (await fetch(stack.message.metricsUrl)).text()).not.toMatch(/^caller_credentials_refused_total\{/m);
  });
});

describe("an edge whose key the service does not accept", () => {
  let stack: Stack;
  let api: RestClient;

  beforeAll(async () => {
    stack = await startStack(
      { SERVICE_AUTH_KEYS: serviceKey("service").entry, AUTH_REQUIRE_USER: "true" },
      { ...jwtEdge, SERVICE_AUTH_KEY: serviceKey("other").entry, RPC_RETRY_ATTEMPTS: "1" },
    );
    api = restClient(stack.edge.url);
  });
  afterAll(async () => {
    await api?.close();
    await stack?.stop();
  });

  it("answers users a retryable 503, not a 401 about their own token, and logs why", async () => {
    const { a, chat } = uniqueChat();
    const reply = await api.call("POST", "/api/send", { json: { chat, text: "x", sender: a }, headers: bearer(await signToken(a)) });
    expect(reply.status).toBe(503);
    expect(reply.body.error.code).toBe("unavailable");
    expect(reply.headers["retry-after"]).toBeDefined();
    await waitFor("the refusal to be logged", () => JSON.stringify(stack.edge.logs).includes("refused the edge's credential"));
  });
});

describe("rotating the key without downtime", () => {
  const [old, next] = [serviceKey("2026-01"), serviceKey("2026-02")];
  let dir: string;
  let keysFile: string;
  let message: ServiceProcess;
  let edges: { old: ServiceProcess; next: ServiceProcess };
  let api: { old: RestClient; next: RestClient };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "service-auth-"));
    keysFile = join(dir, "keys");
    writeFileSync(keysFile, `${next.entry}\n${old.entry}\n`);
    message = await startService("message", { SERVICE_AUTH_KEYS_FILE: keysFile, SERVICE_AUTH_KEYS_RELOAD_SECONDS: "1", AUTH_REQUIRE_USER: "true" });
    const edge = (key: TestServiceKey) => startService("edge", { MESSAGE_SERVICE_URL: message.url, ...jwtEdge, SERVICE_AUTH_KEY: key.entry, RPC_RETRY_ATTEMPTS: "1" });
    edges = { old: await edge(old), next: await edge(next) };
    api = { old: restClient(edges.old.url), next: restClient(edges.next.url) };
  });
  afterAll(async () => {
    await api?.old.close();
    await api?.next.close();
    await edges?.old.stop();
    await edges?.next.stop();
    await message?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("accepts edges signing with either key while both are accepted, and refuses the old one once it is retired", async () => {
    const { a, b, chat } = uniqueChat();
    const send = async (via: RestClient, text: string) =>
      (await via.call("POST", "/api/send", { json: { chat, text, sender: a }, headers: bearer(await signToken(a)) })).status;
    expect(await send(api.old, "via the old key")).toBe(200);
    expect(await send(api.next, "via the new key")).toBe(200);

    // Retire the old key in place, as the kubelet updates a mounted Secret.
    writeFileSync(keysFile, `${next.entry}\n`);
    await waitFor("the service to refuse the old key", async () => (await send(api.old, "until refused")) === 503, { timeoutMs: 20_000, intervalMs: 200 });
    expect(await send(api.next, "still via the new key")).toBe(200);
    await waitFor("the reload to be logged", () => message.logs.some((line) => line.msg === "caller authentication keys reloaded"));

    const pulled = await api.next.call("GET", "/api/pull", { json: { chat }, headers: bearer(await signToken(b)) });
    const texts: string[] = pulled.body.messages.map((m: { text: string }) => m.text);
    expect(texts.filter((text) => text !== "until refused")).toEqual(["via the old key", "via the new key", "still via the new key"]);
  });
});

describe("an optional credential (while a release upgrades to caller authentication)", () => {
  const key = serviceKey("current");
  let message: ServiceProcess;

  beforeAll(async () => {
    message = await startService("message", { SERVICE_AUTH_KEYS: key.entry, SERVICE_AUTH_MODE: "optional" });
  });
  afterAll(async () => {
    await message?.stop();
  });

  it("accepts calls without one, and still refuses a bad one", async () => {
    const client = createClient(MessageService, createConnectTransport({ baseUrl: message.url, httpVersion: "1.1" }));
    const { chat } = uniqueChat();
    expect(await codeOf(client.pull({ chat }))).toBeUndefined();
    expect(await codeOf(client.pull({ chat }, { headers: { authorization: await signedAssertion(serviceKey("current")) } }))).toBe(Code.Unauthenticated);
    expect(await codeOf(client.pull({ chat }, { headers: { authorization: await signedAssertion(key) } }))).toBeUndefined();
  });
});

describe("keys a service must not start with", () => {
  it.each([
    ["a message service with a 16-byte key", "message", { SERVICE_AUTH_KEYS: `k1=${Buffer.alloc(16, 1).toString("base64url")}` }, /SERVICE_AUTH_KEYS: key "k1": the secret must be at least 32 random bytes/],
    ["a message service with a malformed set", "message", { SERVICE_AUTH_KEYS: "k1 k2" }, /SERVICE_AUTH_KEYS: each key must be kid=secret/],
    ["a message service with a key of zero bytes", "message", { SERVICE_AUTH_KEYS: `k1=${"A".repeat(43)}` }, /SERVICE_AUTH_KEYS: key "k1": the secret is a repeating pattern/],
    ["an edge given two keys to sign with", "edge", { SERVICE_AUTH_KEY: `${serviceKey("a").entry},${serviceKey("b").entry}` }, /SERVICE_AUTH_KEY: holds 2 keys/],
    ["an edge with a 5-byte key", "edge", { SERVICE_AUTH_KEY: "edge=c2hvcnQ" }, /SERVICE_AUTH_KEY: key "edge": the secret must be at least 32 random bytes/],
  ] as const)("%s exits at startup, saying what is wrong", async (_name, service, env, message) => {
    const exited = await runUntilExit(service, env);
    expect(exited.code).toBe(1);
    expect(exited.stderr).toMatch(message);
  });
});
