import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { freePort } from "../harness/ports.js";
import { startService, type ServiceProcess } from "../harness/services.js";
import { waitFor } from "../harness/wait.js";
import { restClient, type HttpReply, type RestClient } from "../support/http.js";
import { uniqueChat } from "../support/ids.js";
import { requireSample } from "../support/metrics.js";
import { bearer, signToken, testAudience, testIssuer, testSecret } from "../support/tokens.js";

// 30 a minute is one request every 2 s, after a burst of 3. The exact counts below need every
// request decided, also on a busy machine: a limiter call that times out lets its request
// through undecided, so these edges wait on Redis far longer than the 250 ms default.
const limits = {
  RATE_LIMIT_SEND_PER_MINUTE: "30",
  RATE_LIMIT_PULL_PER_MINUTE: "30",
  RATE_LIMIT_BURST: "3",
  RATE_LIMIT_TIMEOUT_MS: "10000",
};

let message: ServiceProcess;
const started: ServiceProcess[] = [];
const clients: RestClient[] = [];

async function edge(env: Record<string, string>): Promise<{ process: ServiceProcess; api: RestClient }> {
  const process = await startService("edge", { MESSAGE_SERVICE_URL: message.url, ...env });
  started.push(process);
  const api = restClient(process.url);
  clients.push(api);
  return { process, api };
}

beforeAll(async () => {
  message = await startService("message", { REDIS_URL: inject("redisUrl") });
});
afterAll(async () => {
  await Promise.all(clients.map((client) => client.close()));
  await Promise.all(started.map((process) => process.stop()));
  await message?.stop();
});

/**
 * Until an edge's limiter has connected to Redis it lets requests through undecided (it
 * fails open and queues nothing): wait for a decided answer before counting.
 */
async function limiterConnected(api: RestClient, headers: Record<string, string> = {}): Promise<void> {
  await waitFor("the limiter to reach Redis", async () => {
    const reply = await api.call("GET", "/api/pull?chat=warmup:x", { headers: { ...headers, ...fromClient() } });
    return reply.headers["ratelimit-limit"] !== undefined;
  });
}

/** A client address of its own behind one trusted proxy, so tests do not share buckets. */
const fromClient = () => ({ "x-forwarded-for": `198.51.100.${randomBytes(4).toString("hex")}` });

function expectLimited(reply: HttpReply) {
  expect(reply.status).toBe(429);
  expect(reply.body.error).toEqual({ code: "resource_exhausted", message: expect.stringMatching(/too many/) });
  const retryAfter = Number(reply.headers["retry-after"]);
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(retryAfter).toBeLessThanOrEqual(2);
  expect(reply.headers["ratelimit-limit"]).toBe("3");
  expect(reply.headers["ratelimit-remaining"]).toBe("0");
  return retryAfter;
}

describe("rate limits shared through Redis", () => {
  let a: RestClient;
  let b: RestClient;

  beforeAll(async () => {
    const env = { ...limits, REDIS_URL: inject("redisUrl"), TRUSTED_PROXY_HOPS: "1" };
    [a, b] = (await Promise.all([edge(env), edge(env)])).map((started) => started.api) as [RestClient, RestClient];
    await Promise.all([limiterConnected(a), limiterConnected(b)]);
  });

  it("counts a client's sends over every edge replica, answers 429 over the limit, and recovers", async () => {
    const { chat, a: sender } = uniqueChat();
    const client = fromClient();
    const send = (api: RestClient) => api.call("POST", "/api/send", { json: { chat, text: "x", sender }, headers: client });
    const allowed = [await send(a), await send(b), await send(a)];
    expect(allowed.map((reply) => reply.status)).toEqual([200, 200, 200]);
    expect(allowed.map((reply) => reply.headers["ratelimit-remaining"])).toEqual(["2", "1", "0"]);
    expect(allowed.every((reply) => reply.headers["ratelimit-limit"] === "3")).toBe(true);
    const retryAfter = expectLimited(await send(b));

    const limitedAt = Date.now();
    const recovered = await waitFor("the bucket to refill", async () => {
      const reply = await send(a);
      return reply.status === 200 ? reply : undefined;
    }, { timeoutMs: (retryAfter + 2) * 1000, intervalMs: 200 });
    expect(recovered.status).toBe(200);
    expect(Date.now() - limitedAt).toBeGreaterThan(500);

    const pulled = await a.call("GET", "/api/pull", { json: { chat }, headers: fromClient() });
    expect(pulled.body.messages).toHaveLength(4);
  });

  it("limits pulls on their own, and one client's excess does not slow another", async () => {
    const { chat } = uniqueChat();
    const greedy = fromClient();
    for (let i = 0; i < 3; i++) expect((await a.call("GET", `/api/pull?chat=${chat}`, { headers: greedy })).status).toBe(200);
    expectLimited(await b.call("GET", `/api/pull?chat=${chat}`, { headers: greedy }));
    expect((await b.call("GET", `/api/pull?chat=${chat}`, { headers: fromClient() })).status).toBe(200);
    // Sends are a different bucket.
    const { a: sender } = uniqueChat();
    const reply = await a.call("POST", "/api/send", { json: { chat: `${sender}:z`, text: "x", sender }, headers: greedy });
    expect(reply.status).toBe(200);
  });

  it("does not believe an X-Forwarded-For entry the client wrote itself", async () => {
    const { chat } = uniqueChat();
    const real = fromClient()["x-forwarded-for"];
    const replies: number[] = [];
    for (let i = 0; i < 4; i++) {
      // Each request claims a new origin on the left; the proxy-appended entry stays the same.
      const spoofed = { "x-forwarded-for": `10.${i}.0.1, ${real}` };
      replies.push((await a.call("GET", `/api/pull?chat=${chat}`, { headers: spoofed })).status);
    }
    expect(replies).toEqual([200, 200, 200, 429]);
  });
});

describe("rate limits per authenticated user, on a Redis Cluster", () => {
  let api: RestClient;

  beforeAll(async () => {
    ({ api } = await edge({
      ...limits,
      REDIS_CLUSTER_NODES: inject("redisClusterNodes"),
      AUTH_MODE: "jwt",
      AUTH_JWT_SECRET: testSecret,
      AUTH_ISSUER: testIssuer,
      AUTH_AUDIENCE: testAudience,
    }));
    await limiterConnected(api, bearer(await signToken("warmup")));
  });

  it("limits each user on their own, whatever address they come from", async () => {
    const { a, b, chat } = uniqueChat();
    const [alice, bob] = [bearer(await signToken(a)), bearer(await signToken(b))];
    const send = (sender: string, headers: Record<string, string>) =>
      api.call("POST", "/api/send", { json: { chat, text: "x", sender }, headers: { ...headers, ...fromClient() } });
    for (let i = 0; i < 3; i++) expect((await send(a, alice)).status).toBe(200);
    expectLimited(await send(a, alice));
    expect((await send(b, bob)).status).toBe(200);
  });
});

describe("when the limiter cannot decide", () => {
  it("lets requests through (fail open), counts and logs it", async () => {
    const { process, api } = await edge({
      ...limits,
      RATE_LIMIT_TIMEOUT_MS: "250",
      REDIS_URL: `redis://127.0.0.1:${await freePort()}`,
    });
    const { chat, a } = uniqueChat();
    for (let i = 0; i < 5; i++) {
      const reply = await api.call("POST", "/api/send", { json: { chat, text: "x", sender: a } });
      expect(reply.status).toBe(200);
      expect(reply.headers["ratelimit-limit"]).toBeUndefined();
    }
    expect(await requireSample(process.metricsUrl, "rate_limit_decisions_total", { action: "send", result: "error" })).toBe(5);
    // Log lines arrive through a pipe: wait for it rather than race it.
    await waitFor("the fail-open log line", () => process.logs.some((line) => line.msg === "rate limiter unavailable; letting requests through"));
  });

  it("keeps buckets in process memory when no Redis is configured", async () => {
    const { process, api } = await edge(limits);
    const { chat } = uniqueChat();
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await api.call("GET", `/api/pull?chat=${chat}`)).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
    expect(process.logs.some((line) => String(line.msg).startsWith("rate limits: kept in this process"))).toBe(true);
  });
});

describe("without RATE_LIMIT_* settings", () => {
  it("limits nothing and sends no rate-limit headers", async () => {
    const { api } = await edge({ REDIS_URL: inject("redisUrl") });
    const { chat } = uniqueChat();
    for (let i = 0; i < 10; i++) {
      const reply = await api.call("GET", `/api/pull?chat=${chat}`);
      expect(reply.status).toBe(200);
      expect(reply.headers["ratelimit-limit"]).toBeUndefined();
    }
  });
});
