import * as net from "node:net";

/**
 * Sends `request` as raw bytes over a new connection and resolves with everything the server
 * wrote before it closed the connection (or before `timeoutMs`).
 */
export function rawExchange(baseUrl: string, request: string | Buffer, timeoutMs = 5_000): Promise<string> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname);
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no close within ${timeoutMs} ms; got ${Buffer.concat(chunks).toString("latin1")}`));
    }, timeoutMs);
    socket.on("data", (chunk: Buffer) => chunks.push(chunk));
    socket.on("error", () => {});
    socket.on("close", () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString("utf8"));
    });
    // No half-close: Node's server drops a pending response when the client's side ends.
    // Send "connection: close" (or something the parser refuses) for the server to close.
    socket.write(request);
  });
}

/** Status and JSON body of a raw HTTP/1.1 response. */
export function parseRawResponse(raw: string): { status: number; headers: string; body: unknown } {
  const [head = "", body = ""] = raw.split("\r\n\r\n", 2);
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1]);
  return { status, headers: head.toLowerCase(), body: body === "" ? undefined : JSON.parse(body) };
}
