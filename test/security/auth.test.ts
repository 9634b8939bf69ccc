import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { createClient, ConnectError, Code } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { MessageService, encodeChatUser } from "@chat/proto";
import { exportJWK, generateKeyPair, type JWK } from "jose";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { freePort } from "../harness/ports.js";
import { startService, startStack, type ServiceProcess, type Stack } from "../harness/services.js";
import { waitFor } from "../harness/wait.js";
import { restClient, type HttpReply, type RestClient } from "../support/http.js";
import { uniqueChat } from "../support/ids.js";
import { bearer, signToken, testAudience, testIssuer, testSecret } from "../support/tokens.js";

function expectUnauthenticated(reply: HttpReply, description?: RegExp) {
  expect(reply.status).toBe(401);
  expect(reply.body).toEqual({ error: { code: "unauthenticated", message: expect.any(String) } });
  const challenge = String(reply.headers["www-authenticate"]);
  expect(challenge).toMatch(/^Bearer realm="chat"/);
  if (description) {
    expect(challenge).toMatch(/error="invalid_token"/);
    expect(challenge).toMatch(description);
    expect(reply.body.error.message).toMatch(description);
  }
}

const jwtEnv = { AUTH_MODE: "jwt", AUTH_ISSUER: testIssuer, AUTH_AUDIENCE: testAudience };

describe("bearer tokens with a shared secret (HS256)", () => {
  let stack: Stack;
  let api: RestClient;

  beforeAll(async () => {
    stack = await startStack(
      { REDIS_URL: inject("redisUrl"), AUTH_REQUIRE_USER: "true" },
      { ...jwtEnv, AUTH_JWT_SECRET: testSecret, AUTH_MAX_TOKEN_LIFETIME_SECONDS: "3600" },
    );
    api = restClient(stack.edge.url);
  });
  afterAll(async () => {
    await api?.close();
    await stack?.stop();
  });

  it("lets a member send as themselves and read the chat back", async () => {
    const { a, b, chat } = uniqueChat();
    const sent = await api.call("POST", "/api/send", { json: { chat, text: "hi", sender: a }, headers: bearer(await signToken(a)) });
    expect(sent.status).toBe(200);
    const pulled = await api.call("GET", "/api/pull", { json: { chat }, headers: bearer(await signToken(b)) });
    expect(pulled.status).toBe(200);
    expect(pulled.body.messages).toEqual([sent.body.message]);
  });

  it("answers 401 with a challenge when the token is missing or not a bearer token", async () => {
    const { a, chat } = uniqueChat();
    expectUnauthenticated(await api.call("POST", "/api/send", { json: { chat, text: "x", sender: a } }));
    expectUnauthenticated(await api.call("GET", `/api/pull?chat=${chat}`));
    const basic = await api.call("GET", `/api/pull?chat=${chat}`, { headers: { authorization: "Basic YWxpY2U6cHc=" } });
    expectUnauthenticated(basic, /Bearer <token>/);
  });

  it.each([
    ["an expired token", { exp: Math.floor(Date.now() / 1000) - 3600 }, /expired/],
    ["a token for another audience", { aud: "another-api" }, /'aud' claim/],
    ["a token from another issuer", { iss: "https://evil.test" }, /'iss' claim/],
    ["a token valid until the year 9999", { exp: 253_402_300_799 }, /lifetime \(exp - iat\) of \d+ s is longer than the 3600 s this API accepts/],
    ["a token without iat that has days left", { iat: undefined, exp: Math.floor(Date.now() / 1000) + 3 * 86_400 }, /remaining lifetime \(exp - now\)/],
  ])("answers 401 invalid_token to %s", async (_name, claims, description) => {
    const { a, chat } = uniqueChat();
    const token = await signToken(a, claims);
    expectUnauthenticated(await api.call("GET", `/api/pull?chat=${chat}`, { headers: bearer(token) }), description);
  });

  it("answers 401 to a token with a wrong signature, and stores nothing", async () => {
    const { a, chat } = uniqueChat();
    const forged = await signToken(a, {}, new TextEncoder().encode("an-attackers-own-secret-of-32-bytes!"));
    const reply = await api.call("POST", "/api/send", { json: { chat, text: "forged", sender: a }, headers: bearer(forged) });
    expectUnauthenticated(reply, /signature/);
    const pulled = await api.call("GET", "/api/pull", { json: { chat }, headers: bearer(await signToken(a)) });
    expect(pulled.body.messages).toEqual([]);
  });

  it("answers 403 to a send as someone else, and stores nothing", async () => {
    const { a, b, chat } = uniqueChat();
    const reply = await api.call("POST", "/api/send", { json: { chat, text: "it's me, b", sender: b }, headers: bearer(await signToken(a)) });
    expect(reply.status).toBe(403);
    expect(reply.body.error).toEqual({ code: "permission_denied", message: expect.stringMatching(/not the authenticated user/) });
    const pulled = await api.call("GET", "/api/pull", { json: { chat }, headers: bearer(await signToken(b)) });
    expect(pulled.body.messages).toEqual([]);
  });

  it("answers 403 to a pull of a chat the user is not a member of", async () => {
    const { a, chat } = uniqueChat();
    await api.call("POST", "/api/send", { json: { chat, text: "private", sender: a }, headers: bearer(await signToken(a)) });
    const mallory = bearer(await signToken("mallory"));
    for (const query of [{ json: { chat } }, { json: { chat: chat.split(":").reverse().join(":") } }]) {
      const reply = await api.call("GET", "/api/pull", { ...query, headers: mallory });
      expect(reply.status).toBe(403);
      expect(reply.body.error.code).toBe("permission_denied");
      expect(JSON.stringify(reply.body)).not.toContain("private");
    }
  });

  it("keeps /ping and the probes open", async () => {
    expect((await api.call("GET", "/ping")).status).toBe(200);
    expect((await api.call("GET", "/healthz")).status).toBe(200);
    expect((await api.call("GET", "/readyz")).status).toBe(200);
  });

  it("has the message service enforce the same rules on direct calls (defence in depth)", async () => {
    const client = createClient(MessageService, createConnectTransport({ baseUrl: stack.message.url, httpVersion: "1.1" }));
    const { a, b, chat } = uniqueChat();
    const codeOf = (call: Promise<unknown>) =>
      call.then(
        () => undefined,
        (error: unknown) => ConnectError.from(error).code,
      );
    expect(await codeOf(client.pull({ chat }))).toBe(Code.Unauthenticated);
    expect(await codeOf(client.pull({ chat }, { headers: { "chat-user": encodeChatUser("mallory") } }))).toBe(Code.PermissionDenied);
    expect(await codeOf(client.send({ chat, text: "x", sender: b }, { headers: { "chat-user": encodeChatUser(a) } }))).toBe(
      Code.PermissionDenied,
    );
    expect(await codeOf(client.pull({ chat }, { headers: { "chat-user": encodeChatUser(a) } }))).toBeUndefined();
  });
});

describe("bearer tokens against a JWKS URL (ES256, RS256)", () => {
  let jwks: http.Server;
  let keys: JWK[] = [];
  let signers: Record<string, { privateKey: Awaited<ReturnType<typeof generateKeyPair>>["privateKey"]; alg: string }>;
  let edge: ServiceProcess;
  let message: ServiceProcess;
  let api: RestClient;

  beforeAll(async () => {
    signers = {};
    for (const [kid, alg] of [["ec-1", "ES256"], ["rsa-1", "RS256"]] as const) {
      const pair = await generateKeyPair(alg);
      signers[kid] = { privateKey: pair.privateKey, alg };
      keys.push({ ...(await exportJWK(pair.publicKey)), kid, alg, use: "sig" });
    }
    jwks = http.createServer((_request, response) => {
      response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ keys }));
    });
    await new Promise<void>((resolve) => jwks.listen(0, "127.0.0.1", resolve));
    message = await startService("message", { AUTH_REQUIRE_USER: "true" });
    edge = await startService("edge", {
      MESSAGE_SERVICE_URL: message.url,
      ...jwtEnv,
      AUTH_JWKS_URL: `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/jwks.json`,
    });
    api = restClient(edge.url);
  });
  afterAll(async () => {
    await api?.close();
    await edge?.stop();
    await message?.stop();
    await new Promise((resolve) => jwks?.close(resolve));
  });

  const token = (kid: string, sub: string) => {
    const signer = signers[kid]!;
    return signToken(sub, {}, signer.privateKey, { alg: signer.alg, kid });
  };

  it("accepts tokens signed by any key of the set", async () => {
    const { a, b, chat } = uniqueChat();
    expect((await api.call("POST", "/api/send", { json: { chat, text: "ec", sender: a }, headers: bearer(await token("ec-1", a)) })).status).toBe(200);
    const pulled = await api.call("GET", "/api/pull", { json: { chat }, headers: bearer(await token("rsa-1", b)) });
    expect(pulled.status).toBe(200);
    expect(pulled.body.messages.map((m: { text: string }) => m.text)).toEqual(["ec"]);
  });

  it("refuses a token signed by a key outside the set", async () => {
    const { a, chat } = uniqueChat();
    const stranger = await generateKeyPair("ES256");
    const forged = await signToken(a, {}, stranger.privateKey, { alg: "ES256", kid: "ec-1" });
    expectUnauthenticated(await api.call("GET", "/api/pull", { json: { chat }, headers: bearer(forged) }), /signature/);
  });

  it("answers 503, not 401, while the key set cannot be fetched, and logs why", async () => {
    const down = await startService("edge", {
      MESSAGE_SERVICE_URL: message.url,
      ...jwtEnv,
      // Nothing listens there.
      AUTH_JWKS_URL: `http://127.0.0.1:${await freePort()}/jwks.json`,
    });
    const client = restClient(down.url);
    try {
      const { a, chat } = uniqueChat();
      const reply = await client.call("GET", "/api/pull", { json: { chat }, headers: bearer(await token("ec-1", a)) });
      expect(reply.status).toBe(503);
      expect(reply.headers["retry-after"]).toMatch(/^[1-9]\d*$/);
      expect(reply.body.error.code).toBe("unavailable");
      expect(JSON.stringify(reply.body)).not.toMatch(/ECONNREFUSED|fetch failed|at /);
      await waitFor("the key-loading failure to be logged", () => down.logs.some((line) => line.msg === "token signing keys could not be loaded"));
    } finally {
      await client.close();
      await down.stop();
    }
  });
});
