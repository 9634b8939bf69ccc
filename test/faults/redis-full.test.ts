import { Agent, request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startRedis, startRedisCluster, type RedisServer } from "../harness/redis.js";
import { startStack, type Stack } from "../harness/services.js";
import { uniqueChat } from "../support/ids.js";
import { sample } from "../support/metrics.js";
import { pullAll } from "./steady-load.js";

/** One send as a client saw it: every answer it got, and the send_time once acknowledged. */
interface Attempted {
  readonly chat: string;
  readonly key: string;
  readonly text: string;
  readonly answers: { status: number; retryAfter: string | undefined }[];
  sendTime?: number;
}

const texts = (length: number, id: number) => `${id} `.padEnd(length, "x");

async function sendOnce(dispatcher: Agent, baseUrl: string, send: Attempted): Promise<void> {
  const reply = await request(`${baseUrl}/api/send`, {
    method: "POST",
    dispatcher,
    headers: { "content-type": "application/json", "idempotency-key": send.key },
    body: JSON.stringify({ chat: send.chat, sender: send.chat.split(":")[0], text: send.text }),
  });
  const body = (await reply.body.json()) as { message?: { send_time: number } };
  const retryAfter = reply.headers["retry-after"];
  send.answers.push({ status: reply.statusCode, retryAfter: typeof retryAfter === "string" ? retryAfter : undefined });
  if (reply.statusCode === 200) send.sendTime = body.message!.send_time;
}

/** Sends 1 KiB messages into `chats` from 16 clients until `refusals` sends were refused (or a cap). */
async function fillUntilRefused(baseUrl: string, chats: readonly string[], refusals: number): Promise<Attempted[]> {
  const dispatcher = new Agent({ connections: 16 });
  const sends: Attempted[] = [];
  let refused = 0;
  const client = async () => {
    while (refused < refusals && sends.length < 20_000) {
      const id = sends.length;
      const send: Attempted = { chat: chats[id % chats.length]!, key: `full-${id}`, text: texts(1_024, id), answers: [] };
      sends.push(send);
      await sendOnce(dispatcher, baseUrl, send);
      if (send.sendTime === undefined) refused++;
    }
  };
  await Promise.all(Array.from({ length: 16 }, client));
  await dispatcher.close();
  return sends;
}

async function usedMemory(node: RedisServer): Promise<number> {
  return Number(/^used_memory:(\d+)/m.exec(await node.cli("info", "memory"))?.[1]);
}

/** The masters of a set of nodes (all of them for a standalone server). */
async function masters(nodes: readonly RedisServer[]): Promise<RedisServer[]> {
  const roles = await Promise.all(nodes.map(async (node) => /^role:master/m.test(await node.cli("info", "replication"))));
  return nodes.filter((_, i) => roles[i]);
}

describe.each(["standalone", "cluster"] as const)("a full Redis (%s, maxmemory reached, noeviction)", (kind) => {
  let nodes: RedisServer[];
  let stopRedis: () => Promise<void>;
  let stack: Stack;

  beforeAll(async () => {
    if (kind === "standalone") {
      const server = await startRedis();
      nodes = [server];
      stopRedis = () => server.stop();
    } else {
      const cluster = await startRedisCluster();
      nodes = [...cluster.nodes];
      stopRedis = () => cluster.stop();
    }
    const target: Record<string, string> =
      kind === "standalone" ? { REDIS_URL: nodes[0]!.url } : { REDIS_CLUSTER_NODES: nodes.map((node) => `${node.host}:${node.port}`).join(",") };
    stack = await startStack({ ...target, REDIS_COMMAND_TIMEOUT_MS: "2000" });
  }, 60_000);
  afterAll(async () => {
    await stack?.stop();
    await stopRedis?.();
  });

  it("refuses sends with a retryable 503 and Retry-After, keeps reads working, stores each acknowledged message once, and recovers by itself", { timeout: 120_000 }, async () => {
    const chats = Array.from({ length: 24 }, () => uniqueChat().chat);
    const full = await masters(nodes);
    for (const node of full) {
      expect(await node.cli("config", "get", "maxmemory-policy")).toMatch(/noeviction/);
      // A few MiB above what the node holds now: some hundreds of 1 KiB messages fit.
      await node.cli("config", "set", "maxmemory", String((await usedMemory(node)) + 3 * 1024 * 1024));
    }
    const fullBefore = await sample(stack.message.metricsUrl, "redis_full_rejections_total");

    const sends = await fillUntilRefused(stack.edge.url, chats, 100);
    const answers = sends.flatMap((send) => send.answers);
    const refused = answers.filter((answer) => answer.status === 503);
    expect(answers.filter((answer) => answer.status !== 200 && answer.status !== 503)).toEqual([]);
    expect(refused.length).toBeGreaterThanOrEqual(100);
    expect(refused.every((answer) => answer.retryAfter === "1")).toBe(true);
    // The edge retried each refused send before answering it: the service refused more often.
    const fullAfter = await sample(stack.message.metricsUrl, "redis_full_rejections_total");
    expect(fullAfter! - (fullBefore ?? 0)).toBeGreaterThanOrEqual(refused.length);

    // Reads work while writes are refused, and hold every acknowledged message exactly once.
    // A refused send may be stored whole without its members' list records (Redis filled up
    // between the two writes): the 503 says to retry with the same key, which completes it.
    const acknowledged = sends.filter((send) => send.sendTime !== undefined);
    expect(acknowledged.length).toBeGreaterThan(100);
    const storedWhileFull = (await Promise.all(chats.map((chat) => pullAll(stack.edge.url, chat)))).flat();
    const storedTexts = storedWhileFull.map((message) => message.text);
    expect(new Set(storedTexts).size).toBe(storedTexts.length);
    const refusedTexts = new Set(sends.filter((send) => send.sendTime === undefined).map((send) => send.text));
    const acknowledgedTexts = new Set(acknowledged.map((send) => send.text));
    expect(acknowledged.filter((send) => !storedTexts.includes(send.text))).toEqual([]);
    expect(storedTexts.filter((text) => !acknowledgedTexts.has(text) && !refusedTexts.has(text))).toEqual([]);
    const storedRefused = storedTexts.filter((text) => refusedTexts.has(text)).length;

    // Memory frees: the same keys go through without a restart, each stored once.
    for (const node of full) await node.cli("config", "set", "maxmemory", "0");
    const dispatcher = new Agent({ connections: 8 });
    const unsent = sends.filter((send) => send.sendTime === undefined);
    for (const send of unsent) await sendOnce(dispatcher, stack.edge.url, send);
    await dispatcher.close();
    expect(unsent.map((send) => send.answers.at(-1)!.status).filter((status) => status !== 200)).toEqual([]);
    const stored = (await Promise.all(chats.map((chat) => pullAll(stack.edge.url, chat)))).flat();
    expect(stored).toHaveLength(sends.length);
    expect(new Set(stored.map((message) => message.text)).size).toBe(sends.length);
    for (const service of [stack.edge, stack.message]) expect(service.process.exitCode).toBeNull();
    console.log(`full redis (${kind}):`, JSON.stringify({
      sent: sends.length,
      acknowledgedWhileFull: acknowledged.length,
      refusedButStored: storedRefused,
      refused503: refused.length,
      serviceRefusals: fullAfter! - (fullBefore ?? 0),
      storedAfterRecovery: stored.length,
    }));
  });
});
