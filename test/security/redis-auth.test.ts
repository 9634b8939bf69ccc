import { execFile } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeTlsFiles, redisHasTls, startSecureRedis, type SecureRedis, type TlsFiles } from "../harness/secure-redis.js";
import { startService, startStack, type ServiceProcess, type Stack } from "../harness/services.js";
import { waitFor } from "../harness/wait.js";
import { waitForClusterOk } from "../harness/redis.js";
import { restClient } from "../support/http.js";
import { uniqueChat } from "../support/ids.js";

const password = "s3cret-redis-pw-that-must-never-be-logged";
const aclPassword = "acl-user-pw-that-must-never-be-logged";
const allSecrets = [password, aclPassword];

/** Everything a service printed, to check no secret is in it. */
const printed = (service: ServiceProcess) => JSON.stringify(service.logs) + service.stderr();

async function readyz(service: ServiceProcess): Promise<number> {
  return (await fetch(`${service.url}/readyz`)).status;
}

/** Sends one message through the edge and reads it back; resolves with the texts read. */
async function roundTrip(stack: Stack): Promise<string[]> {
  const api = restClient(stack.edge.url);
  try {
    const { chat, a } = uniqueChat();
    const sent = await api.call("POST", "/api/send", { json: { chat, text: "über TLS ✓", sender: a } });
    expect(sent.status).toBe(200);
    const pulled = await api.call("GET", "/api/pull", { json: { chat } });
    return pulled.body.messages.map((m: { text: string }) => m.text);
  } finally {
    await api.close();
  }
}

const stacks: Stack[] = [];
async function stackWith(messageEnv: Record<string, string>, edgeEnv: Record<string, string> = {}): Promise<Stack> {
  const stack = await startStack(messageEnv, edgeEnv);
  stacks.push(stack);
  return stack;
}
afterAll(async () => {
  await Promise.all(stacks.map((stack) => stack.stop()));
  for (const stack of stacks) {
    for (const service of [stack.edge, stack.message]) {
      for (const secret of allSecrets) expect(printed(service)).not.toContain(secret);
    }
  }
});

describe("Redis AUTH: password and ACL users", () => {
  let redis: SecureRedis;
  let url: string;

  beforeAll(async () => {
    redis = await startSecureRedis({ args: ["--requirepass", password], cliArgs: ["-a", password, "--no-auth-warning"] });
    url = `redis://127.0.0.1:${redis.port}`;
    await redis.cli("ACL", "SETUSER", "chat-message", "on", `>${aclPassword}`, "~chat:*", "~member:*", "&chat:*", "&member:*", "+@all");
    await redis.cli("ACL", "SETUSER", "chat-edge", "on", `>${aclPassword}`, "~ratelimit:*", "+@all");
    await redis.cli("ACL", "SETUSER", "no-scripts", "on", `>${aclPassword}`, "~*", "+@all", "-evalsha", "-eval");
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it("works with the password in REDIS_PASSWORD, in a file, or in the URL", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "redis-pw-")), "password");
    writeFileSync(file, `${password}\n`);
    const environments: Record<string, string>[] = [
      { REDIS_URL: url, REDIS_PASSWORD: password },
      { REDIS_URL: url, REDIS_PASSWORD_FILE: file },
      { REDIS_URL: `redis://:${encodeURIComponent(password)}@127.0.0.1:${redis.port}` },
    ];
    for (const env of environments) {
      const stack = await stackWith(env);
      expect(await roundTrip(stack)).toEqual(["über TLS ✓"]);
    }
  });

  it("works as an ACL user restricted to its own keys, for the service and the edge's rate limiter", async () => {
    const acl = { REDIS_URL: url, REDIS_USERNAME: "chat-message", REDIS_PASSWORD: aclPassword };
    const stack = await stackWith(acl, {
      REDIS_URL: url,
      REDIS_USERNAME: "chat-edge",
      REDIS_PASSWORD: aclPassword,
      RATE_LIMIT_PULL_PER_MINUTE: "1",
    });
    expect(await roundTrip(stack)).toEqual(["über TLS ✓"]);
    // The pull above took the only token: the limiter reached Redis as its ACL user.
    const api = restClient(stack.edge.url);
    const limited = await waitFor("the edge's limiter to answer 429", async () => {
      const reply = await api.call("GET", "/api/pull?chat=x:y");
      return reply.status === 429 ? reply : undefined;
    });
    expect(limited.headers["retry-after"]).toMatch(/^[1-9]\d*$/);
    await api.close();
    expect(await redis.cli("--scan", "--pattern", "ratelimit:*")).not.toBe("");
  });

  it("fails readiness with a wrong password, answers 503, and prints the password nowhere", async () => {
    const stack = await stackWith({ REDIS_URL: url, REDIS_PASSWORD: "wrong-password-also-secret" });
    expect(await readyz(stack.message)).toBe(503);
    const api = restClient(stack.edge.url);
    const { chat, a } = uniqueChat();
    const reply = await api.call("POST", "/api/send", { json: { chat, text: "x", sender: a } });
    await api.close();
    expect(reply.status).toBe(503);
    expect(JSON.stringify(reply.body)).not.toMatch(/WRONGPASS|NOAUTH|redis/i);
    await waitFor("the cause to be logged", () => printed(stack.message).includes("WRONGPASS"));
    expect(printed(stack.message)).not.toContain("wrong-password-also-secret");
  });

  it("answers a Redis command error as a bare 500 and logs the cause server-side", async () => {
    const stack = await stackWith({ REDIS_URL: url, REDIS_USERNAME: "no-scripts", REDIS_PASSWORD: aclPassword });
    await waitFor("the service to be ready", async () => (await readyz(stack.message)) === 200);
    const api = restClient(stack.edge.url);
    const { chat, a } = uniqueChat();
    const reply = await api.call("POST", "/api/send", { json: { chat, text: "x", sender: a } });
    await api.close();
    expect(reply.status).toBe(500);
    expect(reply.body).toEqual({ error: { code: "internal", message: "internal error" } });
    await waitFor("the cause to be logged", () => printed(stack.message).includes("NOPERM"));
  });
});

describe("Redis over TLS", async () => {
  const tlsSupported = (await redisHasTls()) ? await makeTlsFiles() : undefined;
  // Said in the test name when skipped, so a skip is never silent.
  const needs = tlsSupported === undefined ? " [skipped: needs openssl and a redis-server built with TLS]" : "";
  let tls: TlsFiles;

  beforeAll(() => {
    tls = tlsSupported!;
  });
  afterAll(() => tlsSupported?.remove());

  it.skipIf(tlsSupported === undefined)(`stores and reads through a rediss:// server whose CA is given, and refuses an untrusted one${needs}`, async () => {
    const redis = await startSecureRedis({ tls, args: ["--requirepass", password], cliArgs: ["-a", password, "--no-auth-warning"] });
    try {
      const url = `rediss://127.0.0.1:${redis.port}`;
      const trusted = await stackWith(
        { REDIS_URL: url, REDIS_PASSWORD: password, REDIS_TLS_CA_FILE: tls.ca },
        { REDIS_URL: url, REDIS_PASSWORD: password, REDIS_TLS_CA_FILE: tls.ca, RATE_LIMIT_SEND_PER_MINUTE: "100" },
      );
      expect(await roundTrip(trusted)).toEqual(["über TLS ✓"]);
      // Until its TLS connection is up the limiter lets sends through undecided: send until it answers.
      const api = restClient(trusted.edge.url);
      const { chat, a } = uniqueChat();
      await waitFor("the edge's limiter to reach Redis over TLS", async () => {
        const reply = await api.call("POST", "/api/send", { json: { chat, text: "x", sender: a } });
        return reply.headers["ratelimit-limit"] === "100";
      });
      await api.close();
      expect(await redis.cli("--scan", "--pattern", "ratelimit:*")).not.toBe("");

      // Another CA (or the system's) does not vouch for this server: never ready.
      const untrusted = await startService("message", { REDIS_URL: url, REDIS_PASSWORD: password, REDIS_TLS_CA_FILE: tls.otherCa });
      try {
        await waitFor("a TLS error to be logged", () => /certificate|self.signed|verify/i.test(printed(untrusted)));
        expect(await readyz(untrusted)).toBe(503);
      } finally {
        await untrusted.stop();
      }
    } finally {
      await redis.stop();
    }
  });

  it.skipIf(tlsSupported === undefined)(`works with a Redis Cluster over TLS (REDIS_TLS=true)${needs}`, async () => {
    const nodes: SecureRedis[] = [];
    try {
      for (let i = 0; i < 3; i++) nodes.push(await startSecureRedis({ tls, clusterEnabled: true }));
      await promisify(execFile)("redis-cli", [
        "--tls", "--cacert", tls.ca, "--cluster", "create", ...nodes.map((node) => `127.0.0.1:${node.port}`),
        "--cluster-replicas", "0", "--cluster-yes",
      ]);
      await waitForClusterOk(nodes.map((node) => ({ cli: node.cli })) as never);
      const seeds = nodes.map((node) => `127.0.0.1:${node.port}`).join(",");
      const stack = await stackWith({ REDIS_CLUSTER_NODES: seeds, REDIS_TLS: "true", REDIS_TLS_CA_FILE: tls.ca });
      await waitFor("the service to reach the cluster", async () => (await readyz(stack.message)) === 200);
      expect(await roundTrip(stack)).toEqual(["über TLS ✓"]);
    } finally {
      await Promise.all(nodes.map((node) => node.stop()));
    }
  });
});
