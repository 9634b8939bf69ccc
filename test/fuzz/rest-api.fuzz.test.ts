import { randomBytes } from "node:crypto";
import { Code, ConnectError } from "@connectrpc/connect";
import fc from "fast-check";
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from "vitest";
import { canonicalChat, defaultChatLimits, validateSend } from "../../services/message/src/chat/rules.js";
import { startService, startStack, type ServiceProcess, type Stack } from "../harness/services.js";
import { restClient, type HttpReply, type RestClient } from "../support/http.js";
import { parseRawResponse, rawExchange } from "../support/raw-http.js";
import { bearer, signToken, testAudience, testIssuer, testSecret } from "../support/tokens.js";

// Cases per property: a bounded number in `make test`, more with `make fuzz` (FUZZ_RUNS).
const numRuns = Number(process.env.FUZZ_RUNS ?? 200);
// Zero runs would pass every property without sending anything.
if (!Number.isInteger(numRuns) || numRuns < 1) throw new Error(`FUZZ_RUNS must be a whole number of at least 1, not ${process.env.FUZZ_RUNS}`);
const seed = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);
const runs = { numRuns, ...(seed === undefined ? {} : { seed }) };
const timeout = 60_000 + numRuns * 200;
const maxBodyBytes = 16_384;

let stack: Stack;
let jwtEdge: ServiceProcess;
let api: RestClient;
let jwtApi: RestClient;
let casesRun = 0;

beforeAll(async () => {
  stack = await startStack({ REDIS_URL: inject("redisUrl") }, { MAX_BODY_BYTES: String(maxBodyBytes) });
  jwtEdge = await startService("edge", {
    MESSAGE_SERVICE_URL: stack.message.url,
    AUTH_MODE: "jwt",
    AUTH_JWT_SECRET: testSecret,
    AUTH_ISSUER: testIssuer,
    AUTH_AUDIENCE: testAudience,
  });
  api = restClient(stack.edge.url, { connections: 4 });
  jwtApi = restClient(jwtEdge.url, { connections: 4 });
});
afterAll(async () => {
  await api?.close();
  await jwtApi?.close();
  await jwtEdge?.stop();
  await stack?.stop();
  console.info(`fuzz: ${casesRun} responses checked, ${numRuns} cases per property`);
});

// After every property: both processes are still up, answer, and logged no server fault.
afterEach(async () => {
  for (const service of [stack.edge, stack.message, jwtEdge]) expect(service.process.exitCode).toBeNull();
  expect((await api.call("GET", "/ping")).status).toBe(200);
  expect((await jwtApi.call("GET", "/ping")).status).toBe(200);
  const faults = [...stack.message.logs, ...stack.edge.logs, ...jwtEdge.logs].filter((line) => Number(line.level) >= 50);
  expect(faults).toEqual([]);
});

const stackTrace = /\n\s+at |node_modules|node:internal|\.[cm]?js:\d+/;

/** The invariant every response keeps: 200, or a 4xx with exactly the JSON error body. */
function expectWellFormed(status: number, body: unknown): void {
  casesRun++;
  if (status === 200) return;
  expect(status, JSON.stringify(body)).toBeGreaterThanOrEqual(400);
  expect(status, JSON.stringify(body)).toBeLessThan(500);
  expect(body).toEqual({ error: { code: expect.stringMatching(/^[a-z_]+$/), message: expect.any(String) } });
  expect(JSON.stringify(body)).not.toMatch(stackTrace);
}

const expectReply = (reply: HttpReply) => expectWellFormed(reply.status, reply.body);

/** Reads the message a send stored back by its send_time, and checks it is exactly what was sent. */
async function expectStoredExactly(reply: HttpReply, text: string, sender: string): Promise<void> {
  const stored = reply.body.message;
  expect(stored.text).toBe(text);
  const pulled = await api.call("GET", "/api/pull", { json: { chat: stored.chat, cursor: stored.send_time, limit: 1 } });
  expect(pulled.status).toBe(200);
  expect(pulled.body.messages).toEqual([{ chat: stored.chat, text, sender, send_time: stored.send_time }]);
}

// Characters that break naive code: NUL, lone surrogates, bidi controls, zero-width and BOM,
// non-characters, combining marks, line separators, JSON and URL syntax, and emoji.
const oddCharacter = fc.constantFrom(
  "\u0000", "\ud800", "\udfff", "\u202e", "\u200f", "\u2066", "\u200b", "\ufeff", "\uffff", "\ufffe",
  "e\u0301", "\u0085", "\u2028", "\\", '"', "{", "}", ":", " ", "%", "&", "=", "+", "\r\n", "😀", "👩‍👩‍👧", "ﷺ",
);
const oddString = (maxParts: number) =>
  fc
    .array(fc.oneof(fc.string({ unit: "binary", maxLength: 6 }), oddCharacter, fc.string({ unit: "grapheme", maxLength: 6 })), {
      maxLength: maxParts,
    })
    .map((parts) => parts.join(""));
const memberId = fc.oneof(
  fc.constant("").map(() => `m${randomBytes(4).toString("hex")}`),
  oddString(4),
  fc.string({ unit: "grapheme-ascii", minLength: 1, maxLength: 70 }),
);
const anyJson = fc.jsonValue({ maxDepth: 4, stringUnit: "binary" });
const fieldName = fc.constantFrom("chat", "Chat", "text", "TEXT", "sender", "client_message_id", "clientMessageId", "cursor", "limit", "reverse", "__proto__", "constructor");

describe("fuzzing the REST API against real processes", () => {
  it("answers arbitrary JSON bodies with 200 or a JSON 4xx", { timeout }, async () => {
    const body = fc.oneof(anyJson, fc.dictionary(fieldName, anyJson, { maxKeys: 6 }));
    await fc.assert(
      fc.asyncProperty(body, fc.constantFrom("POST /api/send", "GET /api/pull"), async (json, route) => {
        const [method, path] = route.split(" ") as [string, string];
        expectReply(await api.call(method, path, { json }));
      }),
      runs,
    );
  });

  it("stores exactly what the chat rules accept, byte for byte, and refuses the rest with 400", { timeout }, async () => {
    const send = fc.record({ first: memberId, second: memberId, text: oddString(40), senderIsFirst: fc.boolean() });
    // One send the rules must accept, so the read-back below runs whatever the generators draw.
    const plain = { first: `m${randomBytes(4).toString("hex")}`, second: "z", text: "plain text", senderIsFirst: true };
    let readBack = 0;
    await fc.assert(
      fc.asyncProperty(send, async ({ first, second, text, senderIsFirst }) => {
        const request = { chat: `${first}:${second}`, text, sender: senderIsFirst ? first : second };
        const reply = await api.call("POST", "/api/send", { json: request });
        expectReply(reply);
        let accepted = true;
        try {
          validateSend({ ...request, clientMessageId: "" }, defaultChatLimits);
        } catch (error) {
          // Only a refusal by the rules says "rejected"; any other error is a bug to report.
          if (!(error instanceof ConnectError) || error.code !== Code.InvalidArgument) throw error;
          accepted = false;
        }
        // Above the body limit the edge refuses first (413); otherwise the rules decide.
        if (Buffer.byteLength(JSON.stringify(request)) > maxBodyBytes) return expect(reply.status).toBe(413);
        expect(reply.status, JSON.stringify(reply.body)).toBe(accepted ? 200 : 400);
        if (!accepted) return;
        await expectStoredExactly(reply, text, request.sender);
        readBack++;
      }),
      { ...runs, examples: [[plain]] },
    );
    expect(readBack, "accepted sends read back").toBeGreaterThan(0);
  });

  it("refuses invalid UTF-8 anywhere in a body instead of storing something else", { timeout }, async () => {
    const invalid = fc.constantFrom([0xff], [0xc0, 0x80], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xe2, 0x82], [0x80]);
    await fc.assert(
      fc.asyncProperty(oddString(8), invalid, fc.constantFrom("text", "chat", "sender"), async (prefix, bytes, field) => {
        const sender = `m${randomBytes(4).toString("hex")}`;
        const fields: Record<string, string> = { chat: `${sender}:z`, text: "x", sender };
        const json = JSON.stringify({ ...fields, [field]: `${prefix}@@INVALID@@` });
        const [before, after] = json.split("@@INVALID@@") as [string, string];
        const body = Buffer.concat([Buffer.from(before), Buffer.from(bytes), Buffer.from(after)]);
        const head = `POST /api/send HTTP/1.1\r\nhost: fuzz\r\nconnection: close\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n`;
        const reply = parseRawResponse(await rawExchange(stack.edge.url, Buffer.concat([Buffer.from(head), body])));
        expectWellFormed(reply.status, reply.body);
        expect(reply.status).toBe(400);
      }),
      runs,
    );
  });

  it("answers wrong types in every field with 400, never 5xx", { timeout }, async () => {
    const wrong = fc.record(
      { chat: anyJson, text: anyJson, sender: anyJson, client_message_id: anyJson, cursor: anyJson, limit: anyJson, reverse: anyJson },
      { requiredKeys: [] },
    );
    await fc.assert(
      fc.asyncProperty(wrong, fc.boolean(), async (json, asSend) => {
        const reply = await api.call(asSend ? "POST" : "GET", asSend ? "/api/send" : "/api/pull", { json });
        expectReply(reply);
      }),
      runs,
    );
  });

  it("answers raw bytes under any content type and encoding with 200 or a JSON 4xx", { timeout }, async () => {
    const contentType = fc.constantFrom(
      "application/json", "application/json; charset=utf-16", "application/json; charset=latin1", "text/plain",
      "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/problem+json", "", "garbage/;;;",
    );
    const contentEncoding = fc.constantFrom(undefined, "gzip", "br", "identity", "x-nonsense");
    const bytes = fc.oneof(
      fc.uint8Array({ maxLength: 2_000 }),
      oddString(30).map((text) => Buffer.from(text, "utf8")),
      oddString(30).map((text) => Buffer.from(`{"chat":"a:b","text":"${text}","sender":"a"}`, "utf16le")),
    );
    await fc.assert(
      fc.asyncProperty(bytes, contentType, contentEncoding, fc.boolean(), async (body, type, encoding, asSend) => {
        const head =
          `${asSend ? "POST /api/send" : "GET /api/pull"} HTTP/1.1\r\nhost: fuzz\r\nconnection: close\r\n` +
          (type === "" ? "" : `content-type: ${type}\r\n`) +
          (encoding === undefined ? "" : `content-encoding: ${encoding}\r\n`) +
          `content-length: ${body.length}\r\n\r\n`;
        const reply = parseRawResponse(await rawExchange(stack.edge.url, Buffer.concat([Buffer.from(head, "latin1"), body])));
        expectWellFormed(reply.status, reply.body);
      }),
      runs,
    );
  });

  it("answers huge and deeply nested bodies with a 4xx", { timeout }, async () => {
    // Up to ~1 MiB: a refused body that large is still read to its end, so the client gets
    // its 413 (beyond that the connection is cut; see test/security/limits.test.ts).
    const shape = fc.record({
      depth: fc.integer({ min: 1, max: 90_000 }),
      open: fc.constantFrom("[", '{"a":', '{"chat":', '{"text":['),
      close: fc.boolean(),
    });
    await fc.assert(
      fc.asyncProperty(shape, async ({ depth, open, close }) => {
        const closer = open.startsWith("{") ? "}" : "]";
        const body = open.repeat(depth) + (close ? `1${closer.repeat(depth)}` : "");
        const reply = await api.call("POST", "/api/send", { body, headers: { "content-type": "application/json" } });
        expectReply(reply);
        expect(reply.status).toBe(body.length > maxBodyBytes ? 413 : 400);
      }),
      { ...runs, numRuns: Math.max(10, Math.floor(numRuns / 4)) },
    );
  });

  it("answers odd chat ids and query strings with 200 or a JSON 4xx", { timeout }, async () => {
    const rawQuery = fc.oneof(
      oddString(10).map((chat) => `chat=${encodeURIComponent(chat.replace(/[\ud800-\udfff]/g, "x"))}`),
      fc.string({ unit: "binary-ascii", maxLength: 60 }).map((text) => text.replace(/[\s#]/g, "")),
      fc.constantFrom("chat=%E0%A4%A", "chat=%zz", "chat=%00", "chat=a:b&chat=b:a", "chat=a%3Ab;limit=5", "&&&&", "chat", "=a:b"),
    );
    await fc.assert(
      fc.asyncProperty(rawQuery, async (query) => {
        const raw = await rawExchange(stack.edge.url, `GET /api/pull?${query} HTTP/1.1\r\nhost: fuzz\r\nconnection: close\r\n\r\n`);
        const reply = parseRawResponse(raw);
        expectWellFormed(reply.status, reply.body);
      }),
      runs,
    );
  });

  it("answers odd header values (Idempotency-Key, Authorization) with 200 or a JSON 4xx", { timeout }, async () => {
    const headerValue = fc.string({ unit: "binary-ascii", maxLength: 200 }).map((text) => text.replace(/[\r\n\u0000]/g, ""));
    await fc.assert(
      fc.asyncProperty(headerValue, headerValue, async (idempotencyKey, authorization) => {
        const { a, b } = { a: `m${randomBytes(4).toString("hex")}`, b: "z" };
        const head = (path: string, extra: string) =>
          `POST ${path} HTTP/1.1\r\nhost: fuzz\r\nconnection: close\r\ncontent-type: application/json\r\n${extra}`;
        const body = JSON.stringify({ chat: `${a}:${b}`, text: "x", sender: a });
        const length = `content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
        const plain = parseRawResponse(
          await rawExchange(stack.edge.url, Buffer.from(head("/api/send", `idempotency-key: ${idempotencyKey}\r\n${length}`), "latin1")),
        );
        expectWellFormed(plain.status, plain.body);
        const authed = parseRawResponse(
          await rawExchange(jwtEdge.url, Buffer.from(head("/api/send", `authorization: ${authorization}\r\n${length}`), "latin1")),
        );
        expectWellFormed(authed.status, authed.body);
        // 401 for every value Node's parser lets through; 400 for one it refuses (a control character).
        if (authed.status === 400) expect((authed.body as { error: { message: string } }).error.message).toBe("malformed HTTP request");
        else expect(authed.status).toBe(401);
      }),
      runs,
    );
  });

  it("never lets a forged or altered token through", { timeout }, async () => {
    const claims = fc.record({
      sub: fc.oneof(fc.string({ unit: "binary", maxLength: 20 }), anyJson),
      aud: fc.oneof(fc.constant(testAudience), anyJson),
      iss: fc.oneof(fc.constant(testIssuer), anyJson),
      exp: fc.oneof(fc.integer(), anyJson),
    }, { requiredKeys: [] });
    const alg = fc.constantFrom("none", "HS256", "HS512", "RS256", "ES256", "", "hs256");
    await fc.assert(
      fc.asyncProperty(claims, alg, fc.boolean(), async (payload, algorithm, tamper) => {
        const encode = (value: unknown) => Buffer.from(JSON.stringify(value) ?? "null").toString("base64url");
        const valid = await signToken("fuzz-user");
        const [header, , signature] = valid.split(".") as [string, string, string];
        // Either a valid signature over a different payload, or our own header and a junk signature.
        const token = tamper
          ? `${header}.${encode(payload)}.${signature}`
          : `${encode({ alg: algorithm, typ: "JWT" })}.${encode(payload)}.${randomBytes(32).toString("base64url")}`;
        const reply = await jwtApi.call("GET", "/api/pull?chat=fuzz-user:z", { headers: bearer(token) });
        expectReply(reply);
        expect(reply.status).toBe(401);
        expect(reply.headers["www-authenticate"]).toMatch(/^Bearer realm="chat", error="invalid_token"/);
      }),
      runs,
    );
  });
});
