import { afterAll, beforeAll, expect, inject, it } from "vitest";
import { startTcpBalancer, type TcpBalancer } from "../harness/tcp-balancer.js";
import { startService, type ServiceProcess } from "../harness/services.js";
import { uniqueChat } from "../support/ids.js";
import { pullAll, waitForStored, steadySends, tally } from "./steady-load.js";

let replicas: ServiceProcess[];
let balancer: TcpBalancer;
let edge: ServiceProcess;

beforeAll(async () => {
  replicas = await Promise.all([1, 2].map(() => startService("message", { REDIS_URL: inject("redisUrl") })));
  balancer = await startTcpBalancer(replicas.map((replica) => Number(new URL(replica.url).port)));
  edge = await startService("edge", { MESSAGE_SERVICE_URL: balancer.url });
});
afterAll(async () => {
  await edge?.stop();
  await balancer?.close();
  await Promise.all(replicas?.map((replica) => replica.stop()) ?? []);
});

it("loses and duplicates nothing when a message service replica is killed mid-load", { timeout: 90_000 }, async () => {
  const { chat, a } = uniqueChat();
  let killedAt = 0;
  const load = steadySends({
    baseUrl: () => edge.url,
    chat,
    sender: a,
    concurrency: 16,
    maxMessages: 20_000,
    done: () => killedAt > 0 && Date.now() - killedAt > 4_000,
  });
  await waitForStored(edge.url, chat, 200, load);
  // No drain, no goodbye: in-flight calls on the killed replica lose their responses.
  replicas[0]!.process.kill("SIGKILL");
  killedAt = Date.now();

  const records = await load;
  const counts = tally(records, await pullAll(edge.url, chat));
  console.log("service crash:", JSON.stringify({ ...counts, unexpectedStatuses: counts.unexpectedStatuses.length }));
  expect(counts.lost).toBe(0);
  expect(counts.duplicated).toBe(0);
  // A retry whose first attempt was stored got the original send_time back, not a copy.
  expect(counts.wrongSendTime).toBe(0);
  expect(counts.acknowledged).toBe(counts.sent);
  expect(counts.unexpectedStatuses).toEqual([]);
  expect(counts.outOfOrder).toBe(0);
  expect(edge.process.exitCode).toBeNull();
});
