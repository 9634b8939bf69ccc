import * as net from "node:net";

function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

/**
 * A loopback port that is free now (and, with `alsoFree`, so is port + offset, as a Redis
 * Cluster node's bus port needs). Ports are drawn from a range the kernel does not hand out
 * for port 0, so two harness processes are unlikely to collide.
 */
export async function freePort(alsoFree: number[] = []): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 10_000);
    const candidates = [port, ...alsoFree.map((offset) => port + offset)];
    const results = await Promise.all(candidates.map(bindable));
    if (results.every(Boolean)) return port;
  }
  throw new Error("no free loopback port found");
}
