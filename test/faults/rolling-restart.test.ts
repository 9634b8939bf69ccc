import { afterAll, beforeAll, expect, inject, it } from "vitest";
import { startTcpBalancer, type TcpBalancer } from "../harness/tcp-balancer.js";
import { startService, type ServiceProcess } from "../harness/services.js";
import { uniqueChat } from "../support/ids.js";
import { pullAll, waitForStored, steadySends, tally } from "./steady-load.js";

const portOf = (service: ServiceProcess) => Number(new URL(service.url).port);

let services: ServiceProcess[];
let edges: ServiceProcess[];
let serviceBalancer: TcpBalancer;
let edgeBalancer: TcpBalancer;

beforeAll(async () => {
  services = await Promise.all([1, 2].map(() => startService("message", { REDIS_URL: inject("redisUrl") })));
  serviceBalancer = await startTcpBalancer(services.map(portOf));
  edges = await Promise.all([1, 2].map(() => startService("edge", { MESSAGE_SERVICE_URL: serviceBalancer.url })));
  edgeBalancer = await startTcpBalancer(edges.map(portOf));
});
afterAll(async () => {
  await Promise.all(edges?.map((edge) => edge.stop()) ?? []);
  await Promise.all([edgeBalancer?.close(), serviceBalancer?.close()]);
  await Promise.all(services?.map((service) => service.stop()) ?? []);
});

/**
 * One step of a rolling update, in the order Kubernetes takes it: the old pod leaves the
 * Service's endpoints as it gets SIGTERM, drains, and a new pod joins once it is ready.
 */
async function replace(pool: ServiceProcess[], index: number, balancer: TcpBalancer, start: () => Promise<ServiceProcess>) {
  const old = pool[index]!;
  balancer.setBackends(pool.filter((service) => service !== old).map(portOf));
  const exited = old.stop("SIGTERM");
  const fresh = await start();
  pool[index] = fresh;
  balancer.setBackends(pool.map(portOf));
  expect(await exited).toBe(0);
}

it("rolls both services under load without a failed request for a client that retries connection errors", { timeout: 120_000 }, async () => {
  const { chat, a } = uniqueChat();
  let rolled = false;
  let rolledAt = 0;
  const load = steadySends({
    baseUrl: () => edgeBalancer.url,
    chat,
    sender: a,
    concurrency: 16,
    maxMessages: 50_000,
    done: () => rolled && Date.now() - rolledAt > 2_000,
  });
  await waitForStored(edgeBalancer.url, chat, 200, load);
  for (const index of [0, 1]) {
    await replace(services, index, serviceBalancer, () => startService("message", { REDIS_URL: inject("redisUrl") }));
  }
  for (const index of [0, 1]) {
    await replace(edges, index, edgeBalancer, () => startService("edge", { MESSAGE_SERVICE_URL: serviceBalancer.url }));
  }
  rolled = true;
  rolledAt = Date.now();

  const records = await load;
  const counts = tally(records, await pullAll(edgeBalancer.url, chat));
  const connectionRetries = records.flatMap((record) => record.attempts).filter((status) => status === "connection").length;
  console.log("rolling restart:", JSON.stringify({ ...counts, unexpectedStatuses: counts.unexpectedStatuses.length, connectionRetries }));
  expect(counts.acknowledged).toBe(counts.sent);
  expect(counts.unexpectedStatuses).toEqual([]);
  // Only connection errors were retried by the client: the services never answered 5xx.
  expect(records.flatMap((record) => record.attempts).filter((status) => typeof status === "number" && status !== 200)).toEqual([]);
  expect(counts.lost).toBe(0);
  expect(counts.duplicated).toBe(0);
  expect(counts.wrongSendTime).toBe(0);
});
