import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { startStack, type Stack } from "../harness/services.js";
import { restClient, type HttpReply, type RestClient } from "../support/http.js";
import { uniqueChat } from "../support/ids.js";
import { parseRawResponse, rawExchange } from "../support/raw-http.js";

let stack: Stack;
let api: RestClient;

beforeAll(async () => {
  stack = await startStack(
    { REDIS_URL: inject("redisUrl"), MAX_TEXT_LENGTH: "200", MAX_MEMBER_ID_LENGTH: "16" },
    { MAX_BODY_BYTES: "4096", MAX_HEADER_BYTES: "4096", MAX_QUERY_PARAMS: "8" },
  );
  api = restClient(stack.edge.url);
});
afterAll(async () => {
  await api?.close();
  await stack?.stop();
});

function expectError(reply: { status: number; body: unknown }, status: number, code: string, says: RegExp) {
  expect(reply.status).toBe(status);
  expect(reply.body).toEqual({ error: { code, message: expect.stringMatching(says) } });
}

async function expectStillServing() {
  expect((await api.call("GET", "/ping")).status).toBe(200);
  expect(stack.edge.process.exitCode).toBeNull();
  expect(stack.message.process.exitCode).toBeNull();
}

describe("configurable limits, each a clear 4xx", () => {
  it("refuses request headers above MAX_HEADER_BYTES with 431 and the JSON error body, then closes", async () => {
    const raw = await rawExchange(
      stack.edge.url,
      `GET /ping HTTP/1.1\r\nhost: x\r\nx-filler: ${"a".repeat(5_000)}\r\n\r\n`,
    );
    const reply = parseRawResponse(raw);
    expectError(reply, 431, "request_header_fields_too_large", /headers are too large/);
    expect(reply.headers).toContain("connection: close");
    expect(reply.headers).toContain("x-content-type-options: nosniff");
    await expectStillServing();
  });

  it("accepts headers just under the limit", async () => {
    const reply = await api.call("GET", "/ping", { headers: { "x-filler": "a".repeat(3_000) } });
    expect(reply.status).toBe(200);
  });

  it("answers a malformed request with 400 and the JSON error body", async () => {
    for (const garbage of ["NOT HTTP AT ALL\r\n\r\n", "GET / HTTP/1.1\r\nbad header line\r\n\r\n", "\u0000\u0001\u0002\r\n\r\n"]) {
      const reply = parseRawResponse(await rawExchange(stack.edge.url, garbage));
      expectError(reply, 400, "invalid_argument", /malformed HTTP request/);
    }
    await expectStillServing();
  });

  it("refuses more than MAX_QUERY_PARAMS query parameters", async () => {
    const { chat } = uniqueChat();
    const filler = Array.from({ length: 8 }, (_, i) => `x${i}=1`).join("&");
    expectError(await api.call("GET", `/api/pull?chat=${chat}&${filler}`), 400, "invalid_argument", /9 parameters; at most 8/);
    const within = Array.from({ length: 7 }, (_, i) => `x${i}=1`).join("&");
    expect((await api.call("GET", `/api/pull?chat=${chat}&${within}`)).status).toBe(200);
  });

  it("refuses a body above MAX_BODY_BYTES with 413, also when it is sent chunked", async () => {
    const { chat, a } = uniqueChat();
    expectError(
      await api.call("POST", "/api/send", { json: { chat, text: "x".repeat(5_000), sender: a } }),
      413, "payload_too_large", /larger than 4096 bytes/,
    );
    const chunk = "y".repeat(1_000);
    const chunked =
      "POST /api/send HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n" +
      Array.from({ length: 6 }, () => `${chunk.length.toString(16)}\r\n${chunk}\r\n`).join("") +
      "0\r\n\r\n";
    const raw = await rawExchange(stack.edge.url, chunked);
    expect(parseRawResponse(raw).status).toBe(413);
    await expectStillServing();
  });

  it("closes the connection after a 413, so a client reusing it is not left hanging", async () => {
    const pooled = restClient(stack.edge.url, { connections: 1 });
    try {
      const { chat, a } = uniqueChat();
      const tooLarge = await pooled.call("POST", "/api/send", { body: "[".repeat(200_000), headers: { "content-type": "application/json" } });
      expect(tooLarge.status).toBe(413);
      expect(tooLarge.headers.connection).toBe("close");
      const started = Date.now();
      const next = await pooled.call("POST", "/api/send", { json: { chat, text: "next", sender: a } });
      expect(next.status).toBe(200);
      // The promise: a server never holds a connection that sends nothing. A client stuck on
      // the refused connection would wait for a server timeout (headers 10 s, request 30 s);
      // a fresh connection answers in milliseconds. 5 s lies well between.
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      await pooled.close();
    }
  });

  it("cuts the connection of a body far above the limit, and stays up", async () => {
    const huge = "z".repeat(8 * 1024 * 1024);
    const outcome = await api
      .call("POST", "/api/send", { body: huge, headers: { "content-type": "application/json" } })
      .then((reply) => reply.status, (error: Error) => error.name);
    // The 413 when the client reads it before the reset, else the reset itself.
    expect([413, "SocketError", "Error"]).toContain(outcome);
    await expectStillServing();
  });

  it("refuses text it could not store exactly: lone surrogates, invalid UTF-8, malformed escapes", async () => {
    const { chat, a } = uniqueChat();
    // JSON.stringify writes the lone surrogate as the escape "\ud800".
    expectError(await api.call("POST", "/api/send", { json: { chat, text: "x\ud800y", sender: a } }), 400, "invalid_argument", /unpaired UTF-16 surrogate/);
    expectError(await api.call("POST", "/api/send", { json: { chat: `${a}:\udc00`, text: "x", sender: a } }), 400, "invalid_argument", /unpaired/);
    const invalidUtf8 = Buffer.concat([Buffer.from(`{"chat":"${chat}","sender":"${a}","text":"`), Buffer.from([0xff, 0xc0, 0x80]), Buffer.from('"}')]);
    const raw = await rawExchange(
      stack.edge.url,
      Buffer.concat([Buffer.from(`POST /api/send HTTP/1.1\r\nhost: x\r\nconnection: close\r\ncontent-type: application/json\r\ncontent-length: ${invalidUtf8.length}\r\n\r\n`), invalidUtf8]),
    );
    expectError(parseRawResponse(raw), 400, "invalid_argument", /not valid UTF-8/);
    expectError(await api.call("GET", `/api/pull?chat=${a}%ED%A0%80:b`), 400, "invalid_argument", /percent-encoded UTF-8/);
    expectError(await api.call("GET", `/api/pull?chat=${a}%zz:b`), 400, "invalid_argument", /percent-encoded UTF-8/);
    expect((await api.call("GET", "/api/pull", { json: { chat } })).body.messages).toEqual([]);
  });

  it("refuses a text above MAX_TEXT_LENGTH and member ids that are too long or hold odd characters", async () => {
    const { chat, a } = uniqueChat();
    const send = (json: object) => api.call("POST", "/api/send", { json });
    expectError(await send({ chat, text: "x".repeat(201), sender: a }), 400, "invalid_argument", /longer than 200/);
    expectError(await send({ chat: `${"m".repeat(17)}:b`, text: "x", sender: "b" }), 400, "invalid_argument", /at most 16/);
    for (const member of ["a b", "a\u0000b", "a\u200eb", "a\u202eb", "a\tb"]) {
      expectError(await send({ chat: `${member}:b`, text: "x", sender: "b" }), 400, "invalid_argument", /must not contain/);
    }
    expect((await api.call("GET", "/api/pull", { json: { chat } })).body.messages).toEqual([]);
  });
});

describe("security headers and no leaks", () => {
  const expectHardened = (reply: HttpReply) => {
    expect(reply.headers["x-content-type-options"]).toBe("nosniff");
    expect(reply.headers["cache-control"]).toBe("no-store");
    expect(reply.headers["content-security-policy"]).toBe("default-src 'none'; frame-ancestors 'none'");
    expect(reply.headers["x-frame-options"]).toBe("DENY");
    expect(reply.headers["referrer-policy"]).toBe("no-referrer");
    expect(reply.headers["x-powered-by"]).toBeUndefined();
    expect(reply.headers["server"]).toBeUndefined();
  };

  it("sets them on success, client errors and unknown routes alike", async () => {
    const { chat } = uniqueChat();
    expectHardened(await api.call("GET", "/ping"));
    expectHardened(await api.call("GET", `/api/pull?chat=${chat}`));
    expectHardened(await api.call("POST", "/api/send", { body: "{", headers: { "content-type": "application/json" } }));
    expectHardened(await api.call("GET", "/../../etc/passwd"));
  });

  it("does not pass a client's own chat-user header on to the message service", async () => {
    const { a, chat } = uniqueChat();
    await api.call("POST", "/api/send", { json: { chat, text: "hi", sender: a } });
    // Forwarded, it would make the service check membership for "mallory" and refuse (403).
    const reply = await api.call("GET", "/api/pull", { json: { chat }, headers: { "chat-user": "mallory" } });
    expect(reply.status).toBe(200);
    expect(reply.body.messages).toHaveLength(1);
  });

  it("echoes no internals: parser errors say what to fix, not where the code broke", async () => {
    const reply = await api.call("POST", "/api/send", { body: '{"chat": "a:b", "text": [', headers: { "content-type": "application/json" } });
    expect(reply.status).toBe(400);
    expect(JSON.stringify(reply.body)).not.toMatch(/\bat [\w.<>]+ \(|node:internal|\.js:\d+/);
  });
});
