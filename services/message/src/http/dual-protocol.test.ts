import * as http from "node:http";
import * as http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDualProtocolServer, type DualProtocolServer, type RequestHandler } from "./dual-protocol.js";

// Deadlines far shorter than the response below, which streams for 2 s after the request ends.
const deadlines = { headersTimeoutMs: 300, requestTimeoutMs: 500, idleTimeoutMs: 400 };
const chunks = 10;
const chunkEveryMs = 200;

/** Reads the request to its end, then answers one chunk every 200 ms: a server-streaming call. */
const streamingHandler: RequestHandler = (request, response) => {
  request.resume();
  request.once("end", () => {
    response.writeHead(200, { "content-type": "text/plain" });
    let sent = 0;
    const timer = setInterval(() => {
      response.write(`chunk ${sent}\n`);
      if (++sent === chunks) {
        clearInterval(timer);
        response.end();
      }
    }, chunkEveryMs);
  });
};

let server: DualProtocolServer;
let url: string;
beforeAll(async () => {
  server = createDualProtocolServer(streamingHandler, deadlines);
  await new Promise<void>((resolve) => server.listener.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.listener.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.http1.closeAllConnections();
  await new Promise((resolve) => server.listener.close(resolve));
});

// The deadlines bound what the client owes, never a response still streaming: a long-lived
// server-streaming call must outlive every one of them, over either protocol.
describe("a response that streams longer than every deadline", () => {
  it("arrives whole over HTTP/1.1", async () => {
    const started = performance.now();
    const body = await new Promise<string>((resolve, reject) => {
      const request = http.request(`${url}/stream`, { method: "POST", agent: false }, (response) => {
        let text = "";
        response.setEncoding("utf8").on("data", (chunk: string) => (text += chunk)).once("end", () => resolve(text));
      });
      request.once("error", reject);
      request.end("a small request");
    });
    expect(body.trim().split("\n")).toHaveLength(chunks);
    expect(performance.now() - started).toBeGreaterThan(chunks * chunkEveryMs - 100);
  });

  it("arrives whole over HTTP/2, and the session closes only once idle after it", async () => {
    const session = http2.connect(url);
    const closed = new Promise<number>((resolve) => session.once("close", () => resolve(performance.now())));
    const started = performance.now();
    const stream = session.request({ ":method": "POST", ":path": "/stream" });
    stream.end("a small request");
    let text = "";
    stream.setEncoding("utf8").on("data", (chunk: string) => (text += chunk));
    await new Promise((resolve) => stream.once("end", resolve));
    const ended = performance.now();
    expect(text.trim().split("\n")).toHaveLength(chunks);
    expect(ended - started).toBeGreaterThan(chunks * chunkEveryMs - 100);
    expect(session.closed || session.destroyed).toBe(false);
    expect((await closed) - ended).toBeGreaterThanOrEqual(deadlines.idleTimeoutMs - 100);
  });
});
