import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { startStack, type Stack } from "../harness/services.js";
import { restClient, type HttpReply, type RestClient } from "../support/http.js";
import { uniqueChat } from "../support/ids.js";
import { parseRawResponse, rawExchange } from "../support/raw-http.js";

let stack: Stack;
let api: RestClient;

beforeAll(async () => {
  stack = await startStack(
    { REDIS_URL: inject("redisUrl"), MAX_TEXT_LENGTH: "100" },
    { MAX_BODY_BYTES: "2048" },
  );
  api = restClient(stack.edge.url);
});
afterAll(async () => {
  await api?.close();
  await stack?.stop();
});

function expectError(reply: HttpReply, status: number, code: string, says: string | RegExp) {
  expect(reply.status).toBe(status);
  expect(reply.headers["content-type"]).toMatch(/^application\/json/);
  expect(Object.keys(reply.body)).toEqual(["error"]);
  expect(reply.body.error.code).toBe(code);
  expect(reply.body.error.message).toMatch(says);
}

describe("REST API against real processes and a real Redis", () => {
  it("answers /ping", async () => {
    const reply = await api.call("GET", "/ping");
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({ message: "pong" });
  });

  it("sends like the seed API and answers the stored message", async () => {
    const { a, b } = uniqueChat();
    const reply = await api.call("POST", "/api/send", { json: { chat: `${b}:${a}`, text: "Hello World", sender: a } });
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({
      status: "success",
      message: { chat: `${a}:${b}`, text: "Hello World", sender: a, send_time: expect.any(Number) },
    });
    expect(Number.isSafeInteger(reply.body.message.send_time)).toBe(true);
  });

  it("pulls with a JSON body on GET, with capitalized keys as the seed README sends them", async () => {
    const { chat, a } = uniqueChat();
    for (const text of ["one", "two", "three"]) await api.call("POST", "/api/send", { json: { Chat: chat, Text: text, Sender: a } });
    const first = await api.call("GET", "/api/pull", { json: { Chat: chat, Cursor: 0, Limit: 2, Reverse: false } });
    expect(first.status).toBe(200);
    expect(Object.keys(first.body).sort()).toEqual(["has_more", "history_start", "messages", "next_cursor"]);
    expect(first.body.messages.map((m: { text: string }) => m.text)).toEqual(["one", "two"]);
    expect(first.body.history_start).toBe(first.body.messages[0].send_time);
    expect(first.body.has_more).toBe(true);
    const second = await api.call("GET", "/api/pull", { json: { chat, cursor: first.body.next_cursor, limit: 2 } });
    expect(second.body).toEqual({
      messages: [{ chat, text: "three", sender: a, send_time: first.body.next_cursor }],
      has_more: false,
      next_cursor: 0,
      history_start: first.body.history_start,
    });
  });

  it("pulls with query parameters, newest first when reverse is set", async () => {
    const { chat, a } = uniqueChat();
    for (const text of ["one", "two", "three"]) await api.call("POST", "/api/send", { json: { chat, text, sender: a } });
    const reply = await api.call("GET", `/api/pull?chat=${encodeURIComponent(chat)}&reverse=true&limit=2`);
    expect(reply.status).toBe(200);
    expect(reply.body.messages.map((m: { text: string }) => m.text)).toEqual(["three", "two"]);
    expect(reply.body.has_more).toBe(true);
  });

  it("answers every field of an empty page", async () => {
    const reply = await api.call("GET", "/api/pull", { json: { chat: uniqueChat().chat } });
    expect(reply.body).toEqual({ messages: [], has_more: false, next_cursor: 0, history_start: 0 });
  });

  it("accepts a JSON body that curl -d labels as a form", async () => {
    const { chat, a } = uniqueChat();
    const reply = await api.call("POST", "/api/send", {
      body: JSON.stringify({ chat, text: "via curl -d", sender: a }),
      headers: { "content-type": "application/x-www-form-urlencoded" },
    });
    expect(reply.status).toBe(200);
    expect(reply.body.message.text).toBe("via curl -d");
  });

  it("deduplicates retries by Idempotency-Key header or client_message_id", async () => {
    const { chat, a } = uniqueChat();
    const send = { chat, text: "once", sender: a };
    const first = await api.call("POST", "/api/send", { json: send, headers: { "idempotency-key": "retry-1" } });
    const byHeader = await api.call("POST", "/api/send", { json: send, headers: { "idempotency-key": "retry-1" } });
    const byBody = await api.call("POST", "/api/send", { json: { ...send, client_message_id: "retry-1" } });
    expect(byHeader.body).toEqual(first.body);
    expect(byBody.body).toEqual(first.body);
    const pulled = await api.call("GET", "/api/pull", { json: { chat } });
    expect(pulled.body.messages).toHaveLength(1);

    const reused = await api.call("POST", "/api/send", { json: { ...send, text: "other" }, headers: { "idempotency-key": "retry-1" } });
    expectError(reused, 409, "already_exists", /already used for a different message/);
    const conflicting = await api.call("POST", "/api/send", {
      json: { ...send, client_message_id: "a" },
      headers: { "idempotency-key": "b" },
    });
    expectError(conflicting, 400, "invalid_argument", /differ/);
  });

  it("names the Idempotency-Key header when the key a client sent there is refused or reused", async () => {
    const { chat, a } = uniqueChat();
    const body = JSON.stringify({ chat, text: "hi", sender: a });
    // curl sends a header typed as "5f1c…" as its UTF-8 bytes; Node reads them as latin1.
    const head = `POST /api/send HTTP/1.1\r\nhost: test\r\nconnection: close\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nidempotency-key: `;
    const raw = Buffer.concat([Buffer.from(head), Buffer.from("5f1c…", "utf8"), Buffer.from(`\r\n\r\n${body}`)]);
    const refused = parseRawResponse(await rawExchange(stack.edge.url, raw));
    expect(refused.status).toBe(400);
    expect(refused.body).toEqual({
      error: {
        code: "invalid_argument",
        message: "Idempotency-Key header may contain only visible ASCII characters (letters, digits and punctuation; no spaces), e.g. a UUID",
      },
    });

    await api.call("POST", "/api/send", { json: { chat, text: "first", sender: a }, headers: { "idempotency-key": "k-1" } });
    const reused = await api.call("POST", "/api/send", { json: { chat, text: "second", sender: a }, headers: { "idempotency-key": "k-1" } });
    expectError(reused, 409, "already_exists", /^Idempotency-Key "k-1" was already used for a different message/);
    const pulled = await api.call("GET", "/api/pull", { json: { chat } });
    expect(pulled.body.messages.map((m: { text: string }) => m.text)).toEqual(["first"]);
  });

  it("applies the same key rule to client_message_id in a body, naming that field", async () => {
    const { chat, a } = uniqueChat();
    for (const key of ["5f1cé", "a b", "x".repeat(129)]) {
      const reply = await api.call("POST", "/api/send", { json: { chat, text: "hi", sender: a, client_message_id: key } });
      expectError(reply, 400, "invalid_argument", /^client_message_id (may contain only visible ASCII|is longer than 128)/);
    }
    const accepted = await api.call("POST", "/api/send", { json: { chat, text: "hi", sender: a, client_message_id: "5f1c-e" } });
    expect(accepted.status).toBe(200);
    expect((await api.call("GET", "/api/pull", { json: { chat } })).body.messages).toHaveLength(1);
  });

  describe("bad input gets a 4xx that says what to fix, and stores nothing", () => {
    type BadSend = [string, Parameters<RestClient["call"]>[2], number, string, RegExp];
    /** Sends the API must refuse, all aimed at `chat` where they name one. */
    const badSends = (chat: string, a: string): BadSend[] => [
      ["malformed JSON", { body: '{"chat": ', headers: { "content-type": "application/json" } }, 400, "invalid_argument", /not valid JSON/],
      ["a JSON array", { json: [chat] }, 400, "invalid_argument", /must be a JSON object/],
      ["a wrong type", { json: { chat, text: 5, sender: a } }, 400, "invalid_argument", /text must be a string/],
      ["missing fields", { json: {} }, 400, "invalid_argument", /chat is required; text is required; sender is required/],
      ["an empty text", { json: { chat, text: "", sender: a } }, 400, "invalid_argument", /text is required/],
      ["a bad chat id", { json: { chat: "alice", text: "x", sender: "alice" } }, 400, "invalid_argument", /two member ids/],
      ["a non-member sender", { json: { chat, text: "x", sender: "mallory" } }, 400, "invalid_argument", /not a member/],
      ["a text above the maximum", { json: { chat, text: "x".repeat(101), sender: a } }, 400, "invalid_argument", /longer than 100/],
      ["a body above the maximum", { json: { chat, text: "x".repeat(3000), sender: a } }, 413, "payload_too_large", /larger than 2048 bytes/],
      ["an unsupported content type", { body: "<x/>", headers: { "content-type": "application/xml" } }, 415, "unsupported_media_type", /application\/json/],
      ["the same field twice", { json: { chat, Chat: chat, text: "x", sender: a } }, 400, "invalid_argument", /send it once/],
    ];
    const { chat, a } = uniqueChat();
    it.each(badSends(chat, a))("POST /api/send with %s", async (_name, init, status, code, says) => {
      expectError(await api.call("POST", "/api/send", init), status, code, says);
    });

    it.each([
      ["a negative limit", { chat, limit: -1 }, /limit must be a whole number >= 0/],
      ["a negative cursor", { chat, cursor: -5 }, /cursor must be a whole number >= 0/],
      ["a fractional cursor", { chat, cursor: 1.5 }, /cursor must be a whole number >= 0/],
      ["a non-boolean reverse", { chat, reverse: "sideways" }, /reverse must be true or false/],
      ["no chat", {}, /chat is required/],
    ])("GET /api/pull with %s", async (_name, json, says) => {
      expectError(await api.call("GET", "/api/pull", { json }), 400, "invalid_argument", says);
    });

    it("pull query parameters are checked the same way", async () => {
      expectError(await api.call("GET", `/api/pull?chat=${chat}&limit=-3`), 400, "invalid_argument", /limit must be/);
      expectError(await api.call("GET", `/api/pull?chat=${chat}&limit=1&limit=2`), 400, "invalid_argument", /send it once/);
    });

    it("stores none of the refused sends", async () => {
      const own = uniqueChat();
      for (const [name, init, status] of badSends(own.chat, own.a)) {
        expect((await api.call("POST", "/api/send", init)).status, name).toBe(status);
      }
      const pulled = await api.call("GET", "/api/pull", { json: { chat: own.chat, limit: 100 } });
      expect(pulled.status).toBe(200);
      expect(pulled.body.messages).toEqual([]);
    });
  });

  it("answers unknown routes with 404 and wrong methods with 405", async () => {
    expectError(await api.call("GET", "/api/nothing"), 404, "not_found", /no route for GET \/api\/nothing/);
    const wrongMethod = await api.call("DELETE", "/api/send");
    expectError(wrongMethod, 405, "method_not_allowed", /use POST/);
    expect(wrongMethod.headers.allow).toBe("POST");
  });

  it("caps an oversized limit at the most a page holds (100) instead of failing", async () => {
    const { chat, a } = uniqueChat();
    const sends = await Promise.all(Array.from({ length: 101 }, (_, i) => api.call("POST", "/api/send", { json: { chat, sender: a, text: `${i}` } })));
    expect(sends.map((reply) => reply.status)).toEqual(sends.map(() => 200));
    const reply = await api.call("GET", "/api/pull", { json: { chat, limit: 1e12 } });
    expect(reply.status).toBe(200);
    expect(reply.body.messages).toHaveLength(100);
    expect(reply.body.has_more).toBe(true);
  });

  it("does not advertise its framework and forbids content sniffing", async () => {
    const reply = await api.call("GET", "/ping");
    expect(reply.headers["x-powered-by"]).toBeUndefined();
    expect(reply.headers["x-content-type-options"]).toBe("nosniff");
  });
});
