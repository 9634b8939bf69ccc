import { startRedis } from "../test/harness/redis.js";
import { startService } from "../test/harness/services.js";
import { openBenchStream } from "./lib/live/sse-clients.js";
const server = await startRedis();
const message = await startService("message", { REDIS_URL: server.url, LOG_LEVEL: "warn" });
const edge = await startService("edge", { MESSAGE_SERVICE_URL: message.url, MAX_STREAMS: "20000", LOG_LEVEL: "warn" });
const metric = async (url: string, name: string) => Number(new RegExp(`^${name} (\\S+)$`, "m").exec(await (await fetch(url)).text())?.[1]);
const snap = async () => ({
  edgeRss: await metric(edge.metricsUrl, "process_resident_memory_bytes"), edgeHeap: await metric(edge.metricsUrl, "nodejs_heap_size_used_bytes"),
  msgRss: await metric(message.metricsUrl, "process_resident_memory_bytes"), msgHeap: await metric(message.metricsUrl, "nodejs_heap_size_used_bytes"),
});
const N = Number(process.env.N ?? 5000);
const before = await snap();
const streams = [];
for (let i = 0; i < N; i += 200) { const batch = Array.from({ length: Math.min(200, N - i) }, (_, j) => openBenchStream(`${edge.url}/api/events?chat=m${(i + j) % 500}a:m${(i + j) % 500}b`, () => {})); await Promise.all(batch.map((s) => s.opened)); streams.push(...batch); }
await new Promise((r) => setTimeout(r, 3000));
const after = await snap();
console.log(Object.fromEntries(Object.entries(after).map(([k, v]) => [k, Math.round((v - (before as any)[k]) / N)])));
for (const s of streams) s.close();
await edge.stop(); await message.stop(); await server.stop(); process.exit(0);
