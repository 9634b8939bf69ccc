import * as net from "node:net";

/** A TCP connection a test holds open, with when (and how) the server ended it. */
export interface HeldConnection {
  readonly socket: net.Socket;
  /** performance.now() when the connection was established. */
  readonly openedAt: number;
  /** Everything the server wrote so far. */
  received(): string;
  /** Resolves with milliseconds from open to close once the server (or the test) closes it. */
  readonly closed: Promise<number>;
  write(bytes: string | Buffer): void;
  destroy(): void;
}

export interface HoldOptions {
  /**
   * Never close in return when the server ends its side (as a peer that ignores the end of a
   * connection does): the connection then closes only when the server cuts it.
   */
  readonly lingering?: boolean;
}

/**
 * Opens a connection to `baseUrl`, writes `first` (if any), and keeps reading, so a close by
 * the server is seen as soon as it happens.
 */
export function holdConnection(baseUrl: string, first?: string | Buffer, options: HoldOptions = {}): Promise<HeldConnection> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port: Number(port), host: hostname, allowHalfOpen: options.lingering === true });
    // A lingering peer keeps writing after the server's end, so a cut shows as a reset.
    if (options.lingering) socket.once("end", () => {
      const poke = setInterval(() => socket.write("\u0000"), 100);
      socket.once("close", () => clearInterval(poke));
    });
    const chunks: Buffer[] = [];
    let openedAt = 0;
    const closed = new Promise<number>((done) => socket.once("close", () => done(performance.now() - openedAt)));
    socket.on("data", (chunk: Buffer) => chunks.push(chunk));
    socket.once("error", (error) => {
      if (openedAt === 0) reject(error);
    });
    socket.once("connect", () => {
      openedAt = performance.now();
      socket.on("error", () => {});
      if (first !== undefined) socket.write(first);
      resolve({
        socket,
        openedAt,
        received: () => Buffer.concat(chunks).toString("latin1"),
        closed,
        write: (bytes) => socket.write(bytes),
        destroy: () => socket.destroy(),
      });
    });
  });
}

/** Whether the connection is still open `ms` from now. */
export async function stillOpenAfter(connection: HeldConnection, ms: number): Promise<boolean> {
  const timeout = new Promise<"open">((resolve) => setTimeout(() => resolve("open"), ms));
  return (await Promise.race([connection.closed.then(() => "closed" as const), timeout])) === "open";
}
