import * as net from "node:net";
import { listen } from "@chat/runtime";

/**
 * A connection-level round-robin balancer, as a Kubernetes Service (kube-proxy) is: each new
 * TCP connection goes to the next backend; requests on it never move.
 */
export interface TcpBalancer {
  readonly url: string;
  /** Connections opened to each backend so far, by backend port. */
  readonly connections: Map<number, number>;
  setBackends(ports: number[]): void;
  /** Cuts every open connection, as a NAT or a proxy that drops them does; new ones still work. */
  dropConnections(): void;
  close(): Promise<void>;
}

export async function startTcpBalancer(backendPorts: number[]): Promise<TcpBalancer> {
  let backends = [...backendPorts];
  let next = 0;
  const connections = new Map<number, number>();
  const open = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const port = backends[next++ % backends.length]!;
    connections.set(port, (connections.get(port) ?? 0) + 1);
    const upstream = net.connect(port, "127.0.0.1");
    for (const socket of [client, upstream]) {
      open.add(socket);
      socket.once("close", () => open.delete(socket));
    }
    client.pipe(upstream).pipe(client);
    client.on("error", () => upstream.destroy());
    upstream.on("error", () => client.destroy());
  });
  const url = await listen(server, 0, "127.0.0.1");
  return {
    url,
    connections,
    setBackends(ports) {
      backends = [...ports];
    },
    dropConnections() {
      for (const socket of open) socket.destroy();
    },
    async close() {
      for (const socket of open) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
