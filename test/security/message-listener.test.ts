import * as http2 from "node:http2";
import { Code, ConnectError, createClient, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { MessageService } from "@chat/proto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startService, type ServiceProcess } from "../harness/services.js";
import { waitFor } from "../harness/wait.js";
import { uniqueChat } from "../support/ids.js";
import { parseRawResponse } from "../support/raw-http.js";
import { holdConnection } from "../support/raw-connection.js";

// Deadlines short enough to test in seconds; the defaults are 10 s, 30 s and 65 s.
const deadlines = { headersMs: 2_000, requestMs: 3_000, idleMs: 4_000 };
// The HTTP/1.1 deadlines are checked once a second; a busy 2-core machine may add a little more.
const checkEveryMs = 1_000;
const busyMarginMs = 2_000;

/** Asserts that something bounded by `deadlineMs` ended neither early nor late. */
function expectEndedAt(elapsedMs: number, deadlineMs: number) {
  expect(elapsedMs).toBeGreaterThanOrEqual(deadlineMs - 200);
  expect(elapsedMs).toBeLessThan(deadlineMs + checkEveryMs + busyMarginMs);
}

/** The HTTP/2 client preface and an empty SETTINGS frame: enough to open a session, and then say nothing. */
const http2Hello = Buffer.concat([Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0])]);

/** An HTTP/2 session to the service, and when it closed (ms after `since()` was last called). */
function h2Session(url: string) {
  const session = http2.connect(url);
  session.on("error", () => {});
  let from = performance.now();
  const closed = new Promise<number>((resolve) => session.once("close", () => resolve(performance.now() - from)));
  return { session, closed, since: () => (from = performance.now()) };
}

let service: ServiceProcess;
beforeAll(async () => {
  service = await startService("message", {
    CLIENT_HEADERS_TIMEOUT_MS: String(deadlines.headersMs),
    CLIENT_REQUEST_TIMEOUT_MS: String(deadlines.requestMs),
    IDLE_CONNECTION_TIMEOUT_MS: String(deadlines.idleMs),
  });
});
afterAll(() => service?.stop());

describe("connections that owe the first bytes", () => {
  it("closes one that sends nothing, part of the HTTP/2 preface, or only its first byte, at the headers deadline", async () => {
    const held = await Promise.all([undefined, "PRI * HTTP/2.0\r\n", "P"].map((first) => holdConnection(service.url, first)));
    const closedMs = await Promise.all(held.map((connection) => connection.closed));
    console.log("service closed (ms) silent, partial preface, one byte:", JSON.stringify(closedMs.map(Math.round)));
    for (const ms of closedMs) expectEndedAt(ms, deadlines.headersMs);
  });

  it("answers 408 and closes an HTTP/1.1 request whose headers are unfinished at the headers deadline", async () => {
    const slowloris = await holdConnection(service.url, "POST /chat.v1.MessageService/Send HTTP/1.1\r\nhost: x\r\n");
    const trickle = setInterval(() => slowloris.write("x-keep: going\r\n"), 500);
    try {
      const ms = await slowloris.closed;
      console.log("service closed partial HTTP/1.1 headers after (ms):", Math.round(ms));
      expectEndedAt(ms, deadlines.headersMs);
      expect(parseRawResponse(slowloris.received()).status).toBe(408);
    } finally {
      clearInterval(trickle);
    }
  });

  it("answers 408 and closes an HTTP/1.1 request whose body is unfinished at the request deadline", async () => {
    const head = "POST /chat.v1.MessageService/Send HTTP/1.1\r\nhost: x\r\ncontent-type: application/proto\r\ncontent-length: 64\r\n\r\n";
    const slow = await holdConnection(service.url, head);
    const trickle = setInterval(() => slow.write("\u0000"), 500);
    try {
      const ms = await slow.closed;
      console.log("service closed an unfinished HTTP/1.1 body after (ms):", Math.round(ms));
      expectEndedAt(ms, deadlines.requestMs);
      expect(parseRawResponse(slow.received()).status).toBe(408);
    } finally {
      clearInterval(trickle);
    }
  });
});

describe("HTTP/2 sessions and streams", () => {
  it("closes a session without an open stream at the idle deadline, PINGs or not", async () => {
    const quiet = h2Session(service.url);
    const pinging = h2Session(service.url);
    const pings = setInterval(() => pinging.session.destroyed || pinging.session.ping(() => {}), 500);
    // A peer that ignores GOAWAY and never closes gets a second more, then is cut.
    const deaf = await holdConnection(service.url, http2Hello, { lingering: true });
    try {
      const closedMs = await Promise.all([quiet.closed, pinging.closed, deaf.closed]);
      console.log("service closed idle HTTP/2 sessions after (ms) quiet, pinging, deaf:", JSON.stringify(closedMs.map(Math.round)));
      expectEndedAt(closedMs[0]!, deadlines.idleMs);
      expectEndedAt(closedMs[1]!, deadlines.idleMs);
      expectEndedAt(closedMs[2]!, deadlines.idleMs + 1_000);
    } finally {
      clearInterval(pings);
    }
  });

  it("counts the idle time from the end of the last stream", async () => {
    const { session, closed, since } = h2Session(service.url);
    // Each call on the session restarts the idle time; the last one ends 2 s after the session began.
    for (let call = 0; call < 4; call++) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      const stream = session.request({ ":path": "/healthz" });
      stream.resume();
      await new Promise((resolve) => stream.once("close", resolve));
    }
    since();
    expectEndedAt(await closed, deadlines.idleMs);
  });

  it("resets a stream whose request body is unfinished at the request deadline, and serves others on the session", async () => {
    const { session } = h2Session(service.url);
    try {
      const started = performance.now();
      const stalled = session.request({ ":method": "POST", ":path": "/chat.v1.MessageService/Send", "content-type": "application/proto" });
      stalled.on("error", () => {});
      stalled.write(Buffer.from([0x0a, 0x20]));
      const rstCode = await new Promise<number>((resolve) => stalled.once("close", () => resolve(stalled.rstCode ?? -1)));
      const ms = performance.now() - started;
      console.log("service reset a stalled HTTP/2 stream after (ms):", Math.round(ms));
      expectEndedAt(ms, deadlines.requestMs);
      expect(rstCode).toBe(http2.constants.NGHTTP2_CANCEL);
      const health = session.request({ ":path": "/healthz" });
      const status = await new Promise((resolve) => health.once("response", (headers) => resolve(headers[":status"])));
      expect(status).toBe(200);
    } finally {
      session.close();
    }
  });
});

describe("odd requests", () => {
  it("answers an HTTP/1.0 call without a Host header with 400 and stays up", async () => {
    const body = "{}";
    const request = `POST /chat.v1.MessageService/Send HTTP/1.0\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n${body}`;
    const connection = await holdConnection(service.url, request);
    await connection.closed;
    const raw = connection.received();
    expect(raw).toMatch(/^HTTP\/1\.1 400 /);
    expect(JSON.parse(raw.slice(raw.indexOf("\r\n\r\n") + 4))).toEqual({ code: "invalid_argument", message: "the request has no Host header; send one" });
    expect((await fetch(`${service.url}/healthz`)).status).toBe(200);
  });
});

describe("shutdown", () => {
  it("is not held up by an HTTP/2 peer that never closes its connection", { timeout: 30_000 }, async () => {
    const stopping = await startService("message", { SHUTDOWN_TIMEOUT_MS: "2000" });
    const peer = await holdConnection(stopping.url, http2Hello, { lingering: true });
    await waitFor("the server's SETTINGS", () => peer.received().length > 0);
    const started = performance.now();
    expect(await stopping.stop()).toBe(0);
    // GOAWAY, a second for the peer to close, then the connection is cut: well within the 2 s drain.
    expect(performance.now() - started).toBeLessThan(2_000 + busyMarginMs);
    peer.destroy();
  });
});

describe("a request message over the 1 MiB limit", () => {
  const transports: [string, () => Transport][] = [
    ["Connect, binary, over HTTP/1.1 (as the edge calls it)", () => createConnectTransport({ baseUrl: service.url, httpVersion: "1.1", useBinaryFormat: true })],
    ["Connect, JSON, over HTTP/1.1", () => createConnectTransport({ baseUrl: service.url, httpVersion: "1.1" })],
    ["gRPC-Web over HTTP/1.1", () => createGrpcWebTransport({ baseUrl: service.url, httpVersion: "1.1" })],
    ["Connect over h2c", () => createConnectTransport({ baseUrl: service.url, httpVersion: "2", useBinaryFormat: true })],
    ["gRPC over h2c", () => createGrpcTransport({ baseUrl: service.url })],
  ];

  it.each(transports)("is answered resource_exhausted with %s, and the next call succeeds", async (_name, transport) => {
    const client = createClient(MessageService, transport());
    const { chat, a } = uniqueChat();
    const error = await client.send({ chat, sender: a, text: "x".repeat(3_000_000) }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectError);
    expect((error as ConnectError).code).toBe(Code.ResourceExhausted);
    const { message } = await client.send({ chat, sender: a, text: "small" });
    expect(message?.text).toBe("small");
  });

  it("answers HTTP 429 resource_exhausted, the Connect protocol's status for it, in binary Connect calls too", async () => {
    const reply = await fetch(`${service.url}/chat.v1.MessageService/Send`, {
      method: "POST",
      headers: { "content-type": "application/proto" },
      body: new Uint8Array(2 * 1024 * 1024),
    });
    expect(reply.status).toBe(429);
    expect(await reply.json()).toEqual({ code: "resource_exhausted", message: "message size 2097152 is larger than configured readMaxBytes 1048576" });
    expect(service.process.exitCode).toBeNull();
  });
});

describe("a service with the default deadlines", () => {
  let defaults: ServiceProcess;
  beforeAll(async () => {
    defaults = await startService("message");
  });
  afterAll(() => defaults?.stop());

  it("closes a silent connection and unfinished HTTP/1.1 headers at 10 s", { timeout: 30_000 }, async () => {
    const silent = await holdConnection(defaults.url);
    const slowloris = await holdConnection(defaults.url, "GET /healthz HTTP/1.1\r\nhost: x\r\n");
    const closedMs = await Promise.all([silent.closed, slowloris.closed]);
    console.log("service with defaults closed (ms) silent, partial headers:", JSON.stringify(closedMs.map(Math.round)));
    for (const ms of closedMs) expectEndedAt(ms, 10_000);
  });
});
