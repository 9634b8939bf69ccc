import { afterEach, expect, inject, it } from "vitest";
import { startTcpBalancer, type TcpBalancer } from "../harness/tcp-balancer.js";
import { startService, type ServiceProcess } from "../harness/services.js";
import { uniqueChat } from "../support/ids.js";
import { pullAll, waitForStored, steadySends, tally } from "./steady-load.js";

let replicas: ServiceProcess[] = [];
let balancer: TcpBalancer | undefined;
let edge: ServiceProcess | undefined;

/** Two message service replicas behind a connection balancer, and an edge in front. */
async function startReplicas(): Promise<ServiceProcess> {
  replicas = await Promise.all([1, 2].map(() => startService("message", { REDIS_URL: inject("redisUrl") })));
  balancer = await startTcpBalancer(replicas.map((replica) => Number(new URL(replica.url).port)));
  edge = await startService("edge", { MESSAGE_SERVICE_URL: balancer.url });
  return edge;
}

afterEach(async () => {
  await edge?.stop();
  await balancer?.close();
  await Promise.all(replicas.map((replica) => replica.stop()));
});

/** Sends under load, SIGKILLs one replica mid-load (in-flight calls lose their responses), and tallies. */
async function killOneReplicaUnderLoad(keyless: boolean) {
  const edge = await startReplicas();
  const { chat, a } = uniqueChat();
  let killedAt = 0;
  const load = steadySends({
    baseUrl: () => edge.url,
    chat,
    sender: a,
    concurrency: 16,
    maxMessages: 20_000,
    keyless,
    done: () => killedAt > 0 && Date.now() - killedAt > 4_000,
  });
  await waitForStored(edge.url, chat, 200, load);
  // No drain, no goodbye: in-flight calls on the killed replica lose their responses.
  replicas[0]!.process.kill("SIGKILL");
  killedAt = Date.now();
  const records = await load;
  return tally(records, await pullAll(edge.url, chat));
}

it("loses and duplicates nothing when a message service replica is killed mid-load", { timeout: 90_000 }, async () => {
  const counts = await killOneReplicaUnderLoad(false);
  console.log("service crash:", JSON.stringify({ ...counts, unexpectedStatuses: counts.unexpectedStatuses.length }));
  expect(counts.lost).toBe(0);
  expect(counts.duplicated).toBe(0);
  // A retry whose first attempt was stored got the original send_time back, not a copy.
  expect(counts.wrongSendTime).toBe(0);
  expect(counts.acknowledged).toBe(counts.sent);
  expect(counts.unexpectedStatuses).toEqual([]);
  expect(counts.outOfOrder).toBe(0);
  expect(edge!.process.exitCode).toBeNull();
});

it("duplicates nothing for clients without keys: the edge's retry keys cover its own retries", { timeout: 90_000 }, async () => {
  const counts = await killOneReplicaUnderLoad(true);
  console.log("service crash, keyless clients:", JSON.stringify({ ...counts, unexpectedStatuses: counts.unexpectedStatuses.length }));
  // Each message was sent once by its client; every copy beyond one came from an edge retry.
  expect(counts.duplicated).toBe(0);
  expect(counts.lost).toBe(0);
  expect(counts.wrongSendTime).toBe(0);
  expect(counts.unexpectedStatuses).toEqual([]);
  expect(counts.outOfOrder).toBe(0);
});
