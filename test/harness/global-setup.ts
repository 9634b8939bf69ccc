import type { TestProject } from "vitest/node";
import { assertRedisInstalled, startRedis, startRedisCluster } from "./redis.js";

declare module "vitest" {
  export interface ProvidedContext {
    /** redis://127.0.0.1:PORT of a standalone redis-server shared by the test run. */
    redisUrl: string;
    /** host:port list of a 6-node Redis Cluster shared by the test run. */
    redisClusterNodes: string;
  }
}

/** Starts one standalone Redis and one 6-node Redis Cluster for the whole run. */
export default async function setup(project: TestProject) {
  await assertRedisInstalled();
  const [standalone, cluster] = await Promise.all([startRedis(), startRedisCluster()]);
  project.provide("redisUrl", standalone.url);
  project.provide("redisClusterNodes", cluster.seeds);
  return async () => {
    await Promise.all([standalone.stop(), cluster.stop()]);
  };
}
