import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startStack, type Stack } from "../harness/services.js";
import { restClient } from "../support/http.js";
import { uniqueChat } from "../support/ids.js";
import { parseRawResponse } from "../support/raw-http.js";
import { holdConnection } from "../support/raw-connection.js";

// Node enforces the deadlines once a second; a busy 2-core machine may add a little more.
const checkEveryMs = 1_000;
const busyMarginMs = 2_000;

/** Asserts that a connection closed by a deadline of `deadlineMs` closed neither early nor late. */
function expectClosedAt(closedAfterMs: number, deadlineMs: number) {
  expect(closedAfterMs).toBeGreaterThanOrEqual(deadlineMs - 200);
  expect(closedAfterMs).toBeLessThan(deadlineMs + checkEveryMs + busyMarginMs);
}

describe("an edge with the default deadlines", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({});
  });
  afterAll(() => stack?.stop());

  it("closes a silent connection and one with unfinished headers at the 10 s headers deadline, with a 408", { timeout: 30_000 }, async () => {
    const silent = await holdConnection(stack.edge.url);
    const slowloris = await holdConnection(stack.edge.url, "GET /ping HTTP/1.1\r\nhost: x\r\n");
    const trickle = setInterval(() => slowloris.write("x-keep: going\r\n"), 1_000);
    try {
      const [silentMs, slowlorisMs] = await Promise.all([silent.closed, slowloris.closed]);
      console.log("edge closed after (ms):", JSON.stringify({ silent: Math.round(silentMs), partialHeaders: Math.round(slowlorisMs) }));
      expectClosedAt(silentMs, 10_000);
      expectClosedAt(slowlorisMs, 10_000);
      const answer = parseRawResponse(slowloris.received());
      expect(answer.status).toBe(408);
      expect(answer.body).toEqual({ error: { code: "request_timeout", message: "the request was not received in time" } });
    } finally {
      clearInterval(trickle);
    }
  });
});

describe("an edge with a 4 s request deadline", () => {
  let stack: Stack;
  const requestTimeoutMs = 4_000;
  beforeAll(async () => {
    stack = await startStack({}, {
      CLIENT_HEADERS_TIMEOUT_MS: "2000",
      CLIENT_REQUEST_TIMEOUT_MS: String(requestTimeoutMs),
      RPC_TIMEOUT_MS: "7000",
      RPC_ATTEMPT_TIMEOUT_MS: "7000",
      RPC_RETRY_ATTEMPTS: "1",
    });
  });
  afterAll(() => stack?.stop());

  it("answers 408 and closes when a body, sent a byte at a time, is not complete in time", { timeout: 20_000 }, async () => {
    const head = "POST /api/send HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n";
    const slow = await holdConnection(stack.edge.url, head);
    const trickle = setInterval(() => slow.write(" "), 500);
    try {
      const closedMs = await slow.closed;
      console.log("edge closed a slow body after (ms):", Math.round(closedMs));
      expectClosedAt(closedMs, requestTimeoutMs);
      expect(parseRawResponse(slow.received()).status).toBe(408);
    } finally {
      clearInterval(trickle);
    }
    expect(stack.edge.process.exitCode).toBeNull();
  });

  it("bounds only what the client sends: an answer that takes longer than the deadline still arrives", { timeout: 20_000 }, async () => {
    const api = restClient(stack.edge.url, { connections: 1 });
    const { chat, a } = uniqueChat();
    // The stopped service holds the answer past the 4 s request deadline, not past the RPC deadline.
    stack.message.process.kill("SIGSTOP");
    const resume = setTimeout(() => stack.message.process.kill("SIGCONT"), requestTimeoutMs + checkEveryMs + 1_000);
    try {
      const started = performance.now();
      const reply = await api.call("POST", "/api/send", { json: { chat, text: "patience", sender: a } });
      expect(performance.now() - started).toBeGreaterThan(requestTimeoutMs + checkEveryMs);
      expect(reply.status).toBe(200);
    } finally {
      clearTimeout(resume);
      stack.message.process.kill("SIGCONT");
      await api.close();
    }
  });
});
