import { spawn } from "node:child_process";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startRedis, type RedisServer } from "../harness/redis.js";
import { runUntilExit, startService, startStack, type Stack } from "../harness/services.js";
import { waitFor } from "../harness/wait.js";
import { restClient } from "../support/http.js";
import { uniqueChat } from "../support/ids.js";
import { requireSample } from "../support/metrics.js";
import { chatKeys } from "../../services/message/src/store/redis/keys.js";

describe("startup configuration", () => {
  it.each([
    ["message", { PORT: "http" }, /PORT="http": must be an integer from 0 to 65535/],
    ["message", { REDIS_URL: "localhost:6379" }, /REDIS_URL: must be a URL like redis:\/\//],
    ["message", { REDIS_CLUSTER_NODES: "a:1,b" }, /REDIS_CLUSTER_NODES=.*comma-separated list of host:port/],
    ["message", { REDIS_URL: "redis://x", REDIS_CLUSTER_NODES: "x:1" }, /either REDIS_URL .* or REDIS_CLUSTER_NODES/],
    ["message", { MAX_PULL_LIMIT: "0" }, /MAX_PULL_LIMIT="0": must be at least 1/],
    ["edge", { MESSAGE_SERVICE_URL: "ftp://x" }, /MESSAGE_SERVICE_URL="ftp:\/\/x": must be a URL starting with http:\/\//],
    ["edge", { LOG_LEVEL: "loud" }, /LOG_LEVEL="loud": must be one of fatal, error, warn, info, debug, trace, silent/],
  ] as const)("%s exits non-zero and names the bad variable %j", async (service, env, message) => {
    const { code, stderr } = await runUntilExit(service, env);
    expect(code).toBe(1);
    expect(stderr).toMatch(message);
  });

  it("says at startup that the in-memory engine keeps nothing across restarts", async () => {
    const service = await startService("message");
    expect(service.logs.some((line) => /in-memory engine.*lost on restart/.test(String(line.msg)))).toBe(true);
    expect(await service.stop()).toBe(0);
  });
});

describe("graceful shutdown and Redis outages", () => {
  let redis: RedisServer;
  beforeAll(async () => {
    // A Redis of its own: these tests pause and kill it.
    redis = await startRedis();
  });
  afterAll(() => redis?.stop());

  /**
   * Sends held by a Redis CLIENT PAUSE, so they are in flight when a signal arrives: every
   * one has reached the edge, and the first has reached Redis.
   */
  async function heldSends(stack: Stack, api: ReturnType<typeof restClient>, admin: Redis, count: number) {
    const { chat, a } = uniqueChat();
    await admin.client("PAUSE", 3000, "WRITE");
    const replies = Array.from({ length: count }, (_, i) =>
      api.call("POST", "/api/send", { json: { chat, sender: a, text: `${i}` } }),
    );
    await waitFor("every send to reach the edge", async () => (await requireSample(stack.edge.metricsUrl, "http_server_active_requests")) === count);
    await waitFor("a send to be held in Redis", async () => /blocked_clients:[1-9]/.test(await admin.info("clients")));
    return { chat, replies: Promise.all(replies) };
  }

  const refusesNewWork = async (url: string) => {
    const reply = await fetch(`${url}/readyz`).catch(() => undefined);
    return reply === undefined || reply.status === 503;
  };

  it.each(["message", "edge"] as const)(
    "the %s finishes in-flight requests on SIGTERM, takes no new work, then exits 0",
    async (stopped) => {
      // Redis is held for 3 s below: storage calls must be allowed to wait that long.
      const stack = await startStack({ REDIS_URL: redis.url, REDIS_COMMAND_TIMEOUT_MS: "10000" }, { RPC_ATTEMPT_TIMEOUT_MS: "10000", RPC_TIMEOUT_MS: "10000" });
      const api = restClient(stack.edge.url);
      const admin = new Redis(redis.url);
      try {
        // Every send reaches Redis as one script call; wait until the sends are in flight.
        const { chat, replies } = await heldSends(stack, api, admin, stopped === "edge" ? 10 : 1);
        const exit = stack[stopped].stop("SIGTERM");
        await waitFor(`the ${stopped} to refuse new work while draining`, () => refusesNewWork(stack[stopped].url));
        const statuses = (await replies).map((reply) => reply.status);
        expect(statuses).toEqual(statuses.map(() => 200));
        expect(await exit).toBe(0);
        expect(await admin.xlen(chatKeys(chat).messages)).toBe(statuses.length);
      } finally {
        admin.disconnect();
        await api.close();
        await stack.stop();
      }
    },
  );

  // The promise (README, "Dependencies down"): while Redis is unreachable a send fails at once
  // with a retryable 503, because the Redis client queues nothing while disconnected. Storage
  // calls and the edge's deadlines are set long here (6 s, 20 s), so a send that waited for
  // Redis instead would take 6 s or more; failing at once takes milliseconds. 3 s lies far
  // from both, which keeps the check honest on a busy machine.
  it("answers 503 at once while Redis is down, reports unready, and recovers without a restart", async () => {
    const storageTimeoutMs = 6_000;
    const stack = await startStack(
      { REDIS_URL: redis.url, REDIS_COMMAND_TIMEOUT_MS: String(storageTimeoutMs) },
      { RPC_ATTEMPT_TIMEOUT_MS: "20000", RPC_TIMEOUT_MS: "20000" },
    );
    const api = restClient(stack.edge.url);
    const { chat, a } = uniqueChat();
    const send = () => api.call("POST", "/api/send", { json: { chat, sender: a, text: "x" } });
    try {
      expect((await send()).status).toBe(200);
      const port = redis.port;
      await redis.stop();
      await waitFor("message service to report unready", async () => (await fetch(`${stack.message.url}/readyz`)).status === 503);
      const started = Date.now();
      const down = await send();
      const tookMs = Date.now() - started;
      expect(down.status).toBe(503);
      expect(down.headers["retry-after"]).toBe("1");
      expect(tookMs).toBeLessThan(storageTimeoutMs / 2);

      redis = await startRedis({ port });
      await waitFor("sends to succeed again", async () => (await send()).status === 200, { timeoutMs: 15_000, intervalMs: 100 });
      expect((await fetch(`${stack.message.url}/readyz`)).status).toBe(200);
      expect(stack.message.process.exitCode).toBeNull();
    } finally {
      await api.close();
      await stack.stop();
    }
  });
});

describe("log format", () => {
  it("prints human-readable lines only when LOG_FORMAT=pretty", async () => {
    const child = spawn(process.execPath, ["services/message/dist/main.js"], {
      env: { PATH: process.env.PATH ?? "", PORT: "0", METRICS_PORT: "0", HOST: "127.0.0.1", LOG_FORMAT: "pretty" },
      stdio: ["ignore", "pipe", "inherit"],
    });
    let output = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
    try {
      await waitFor("the listening line", () => output.includes("message service listening"));
      const line = output.split("\n").find((text) => text.includes("message service listening"))!;
      expect(() => JSON.parse(line)).toThrow();
      // One line per event: level, process name, message, then the fields.
      expect(line).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO \(chat-message\): message service listening \{"url":"http:\/\/127\.0\.0\.1:\d+","storage":"memory","callerAuth":"off"\}$/);
    } finally {
      child.kill("SIGTERM");
    }
  });
});
