import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startRedis, startRedisCluster, type RedisCluster, type RedisServer } from "../harness/redis.js";
import { startSecureRedis, type SecureRedis } from "../harness/secure-redis.js";
import { runUntilExit, startService } from "../harness/services.js";
import { waitFor } from "../harness/wait.js";

const refusal = (policy: string) => new RegExp(`maxmemory-policy ${policy}.*Set maxmemory-policy noeviction.*REDIS_ALLOW_EVICTION=true`);

describe("the message service against a Redis that evicts keys", () => {
  let redis: RedisServer;
  beforeAll(async () => {
    redis = await startRedis();
    await redis.cli("config", "set", "maxmemory-policy", "allkeys-lru");
  });
  afterAll(() => redis?.stop());

  it("refuses to start, exits 1, and says which setting to change", async () => {
    const { code, stderr } = await runUntilExit("message", { REDIS_URL: redis.url });
    expect(code).toBe(1);
    expect(stderr).toMatch(refusal("allkeys-lru"));
    expect(stderr).toContain(`127.0.0.1:${redis.port}`);
  });

  it("starts with REDIS_ALLOW_EVICTION=true, and warns", async () => {
    const service = await startService("message", { REDIS_URL: redis.url, REDIS_ALLOW_EVICTION: "true" });
    try {
      expect(service.logs.some((line) => line.msg === "Redis may evict messages (REDIS_ALLOW_EVICTION=true)" && line.policy === "allkeys-lru")).toBe(true);
      expect((await fetch(`${service.url}/readyz`)).status).toBe(200);
    } finally {
      await service.stop();
    }
  });

  it("stops (exit 1) when the policy turns evicting while it runs, on its next connection", { timeout: 30_000 }, async () => {
    const safe = await startRedis();
    const service = await startService("message", { REDIS_URL: safe.url });
    try {
      expect((await fetch(`${service.url}/readyz`)).status).toBe(200);
      await safe.cli("config", "set", "maxmemory-policy", "volatile-lru");
      await safe.cli("client", "kill", "type", "normal");
      expect(await waitFor("the service to exit", () => service.process.exitCode ?? undefined, { timeoutMs: 15_000 })).toBe(1);
      expect(service.logs.some((line) => line.level === 60 && refusal("volatile-lru").test(String(line.msg)))).toBe(true);
    } finally {
      await service.stop();
      await safe.stop();
    }
  });
});

describe("the message service against a cluster with one evicting master", () => {
  let cluster: RedisCluster;
  beforeAll(async () => {
    cluster = await startRedisCluster();
  }, 60_000);
  afterAll(() => cluster?.stop());

  it("refuses to start and names that master", { timeout: 30_000 }, async () => {
    const roles = await Promise.all(cluster.nodes.map((node) => node.cli("info", "replication")));
    const master = cluster.nodes[roles.findIndex((info) => /^role:master/m.test(info))]!;
    await master.cli("config", "set", "maxmemory-policy", "allkeys-random");
    // Given 25 s before it is killed: reaching every master of a cluster is slow on a busy machine.
    const { code, stderr } = await runUntilExit("message", { REDIS_CLUSTER_NODES: cluster.seeds }, 25_000);
    expect(code).toBe(1);
    expect(stderr).toMatch(refusal("allkeys-random"));
    expect(stderr).toContain(`:${master.port}`);
  });
});

describe("the message service where CONFIG is not allowed (managed Redis)", () => {
  const servers: SecureRedis[] = [];
  afterAll(() => Promise.all(servers.map((server) => server.stop())));

  it.each([
    ["renamed away", { args: ["--rename-command", "CONFIG", ""] }, {}],
    ["denied by ACL", { args: ["--user", "app", "on", ">app-password", "~*", "&*", "+@all", "-config"] }, { REDIS_USERNAME: "app", REDIS_PASSWORD: "app-password" }],
  ])("starts when CONFIG is %s, and says once that it cannot check", async (_how, options, login) => {
    const server = await startSecureRedis(options);
    servers.push(server);
    const service = await startService("message", { REDIS_URL: `redis://127.0.0.1:${server.port}`, ...login });
    try {
      expect((await fetch(`${service.url}/readyz`)).status).toBe(200);
      const warnings = service.logs.filter((line) => String(line.msg).startsWith("cannot check Redis's maxmemory-policy"));
      expect(warnings).toHaveLength(1);
      expect(String(warnings[0]!.msg)).toMatch(/make sure it is noeviction/);
    } finally {
      await service.stop();
    }
  });
});
