import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from "vitest";
import { startService, startStack, type ServiceProcess, type Stack } from "../harness/services.js";
import { startTcpBalancer, type TcpBalancer } from "../harness/tcp-balancer.js";
import { waitFor } from "../harness/wait.js";
import { openEventStream, type EventStream } from "../support/event-stream.js";
import { restClient, type HttpReply, type RestClient } from "../support/http.js";
import { uniqueChat, uniqueMember } from "../support/ids.js";
import { serviceKey } from "../support/service-keys.js";
import { bearer, signToken, testAudience, testIssuer, testSecret } from "../support/tokens.js";

interface Sent {
  readonly chat: string;
  readonly text: string;
  readonly sender: string;
  readonly send_time: number;
}

const memberTypes = ["message", "read", "reset"];
const chatOf = (x: string, y: string) => [x, y].sort().join(":");
const portOf = (process: ServiceProcess) => Number(new URL(process.url).port);
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The status an event stream opens with; the stream is left at once. */
async function streamStatus(url: string): Promise<number> {
  const controller = new AbortController();
  const reply = await fetch(url, { signal: controller.signal });
  controller.abort();
  return reply.status;
}

function expectError(reply: HttpReply, status: number, code: string, says: string | RegExp) {
  expect(reply.status).toBe(status);
  expect(reply.headers["content-type"]).toMatch(/^application\/json/);
  expect(reply.body).toEqual({ error: { code, message: typeof says === "string" ? says : expect.stringMatching(says) } });
}

/** The REST calls of these tests, each with optional headers (a bearer token). */
function conversations(api: RestClient) {
  return {
    async send(chat: string, sender: string, text: string, headers?: Record<string, string>): Promise<Sent> {
      const reply = await api.call("POST", "/api/send", { json: { chat, sender, text }, headers });
      expect(reply.status).toBe(200);
      return reply.body.message as Sent;
    },
    list: (query: string, headers?: Record<string, string>) => api.call("GET", `/api/chats?${query}`, { headers }),
    read: (json: unknown, headers?: Record<string, string>) => api.call("POST", "/api/read", { json, headers }),
  };
}

/** A chat list row as the edge shows it. */
const row = (chat: string, last: Sent, read_cursor: number, unread: number, other_read_cursor = 0) => ({
  chat,
  last_message: last,
  read_cursor,
  unread,
  unread_capped: false,
  other_read_cursor,
});

describe("conversations through the real edge (AUTH_MODE=none)", () => {
  let stack: Stack;
  let toService: TcpBalancer;
  let api: RestClient;
  let call: ReturnType<typeof conversations>;
  const streams: EventStream[] = [];
  const cleanups: (() => Promise<unknown> | void)[] = [];
  const watch = async (base: string, query: string, headers?: Record<string, string>) => {
    const stream = await openEventStream(`${base}/api/events?${query}`, headers, memberTypes);
    streams.push(stream);
    return stream;
  };

  beforeAll(async () => {
    const message = await startService("message", { REDIS_URL: inject("redisUrl") });
    // Between the edge and the service, so a test can cut the edge's calls.
    toService = await startTcpBalancer([portOf(message)]);
    const edge = await startService("edge", { MESSAGE_SERVICE_URL: toService.url, SSE_HEARTBEAT_MS: "1000" });
    stack = {
      message,
      edge,
      async stop() {
        await edge.stop();
        await message.stop();
      },
    };
    api = restClient(stack.edge.url);
    call = conversations(api);
  });
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  afterAll(async () => {
    for (const stream of streams) stream.close();
    await api?.close();
    await stack?.stop();
    await toService?.close();
  });

  it("lists a member's chats most recently active first, with their last message as /api/pull shows it, page by page", async () => {
    const m = uniqueMember("m");
    const [p, q, r] = [uniqueMember("p"), uniqueMember("q"), uniqueMember("r")];
    await call.send(chatOf(m, p), p, "p first");
    const toQ = await call.send(chatOf(m, q), q, "q only");
    const toR = await call.send(chatOf(m, r), r, "r only");
    const again = await call.send(chatOf(p, m), p, "p again");
    const first = await call.list(`member=${m}&limit=2`);
    expect(first.status).toBe(200);
    expect(first.body).toEqual({
      chats: [row(chatOf(m, p), again, 0, 2), row(chatOf(m, r), toR, 0, 1)],
      has_more: true,
      next_cursor: expect.stringMatching(/^[A-Za-z0-9_-]+$/),
    });
    const pulled = await api.call("GET", `/api/pull?chat=${chatOf(m, p)}&reverse=true&limit=1`);
    expect(first.body.chats[0].last_message).toEqual(pulled.body.messages[0]);
    const second = await call.list(`member=${m}&limit=2&cursor=${first.body.next_cursor}`);
    expect(second.body).toEqual({ chats: [row(chatOf(m, q), toQ, 0, 1)], has_more: false, next_cursor: "" });
    // The cursor belongs to m's list: another member's list refuses it.
    expectError(await call.list(`member=${p}&cursor=${first.body.next_cursor}`), 400, "invalid_argument", /cursor is malformed/);
  });

  it("counts the other member's messages after the read cursor as unread, never one's own (sending reads up to it)", async () => {
    const { chat, a, b } = uniqueChat();
    await call.send(chat, a, "a1");
    const a2 = await call.send(chat, a, "a2");
    for (const text of ["b1", "b2"]) await call.send(chat, b, text);
    const b3 = await call.send(chat, b, "b3");
    expect((await call.list(`member=${a}`)).body.chats).toEqual([row(chat, b3, a2.send_time, 3)]);
    expect((await call.list(`member=${b}`)).body.chats).toEqual([row(chat, b3, b3.send_time, 0)]);
    const a3 = await call.send(chat, a, "a3");
    expect((await call.list(`member=${a}`)).body.chats).toEqual([row(chat, a3, a3.send_time, 0)]);
    expect((await call.list(`member=${b}`)).body.chats).toEqual([row(chat, a3, b3.send_time, 1)]);
    const b4 = await call.send(chat, b, "b4");
    expect((await call.list(`member=${a}`)).body.chats).toEqual([row(chat, b4, a3.send_time, 1)]);
    expect((await call.list(`member=${b}`)).body.chats).toEqual([row(chat, b4, b4.send_time, 0)]);
  });

  it("caps the unread count at 100 and says so", { timeout: 60_000 }, async () => {
    const { chat, a, b } = uniqueChat();
    let last: Sent | undefined;
    for (let i = 0; i < 101; i++) last = await call.send(chat, b, `m${i}`);
    const reply = await call.list(`member=${a}`);
    expect(reply.body.chats).toEqual([{ ...row(chat, last!, 0, 100), unread_capped: true }]);
  });

  it("answers an unknown member with an empty list", async () => {
    const reply = await call.list(`member=${uniqueMember("nobody")}`);
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({ chats: [], has_more: false, next_cursor: "" });
  });

  it.each([
    ["no member", "", /member is required/],
    ["a chat id as member", "member=a:b", /member ids must not contain spaces, control characters or ":"/],
    ["a negative limit", "member=alice&limit=-1", /limit must be a whole number >= 0/],
    ["a limit that is not a number", "member=alice&limit=many", /limit must be a whole number >= 0/],
    ["a made-up cursor", "member=alice&cursor=bm90LWEtY3Vyc29y", /cursor is malformed/],
    ["member twice", "member=alice&Member=bob", /"member" and "Member" both set member; send it once/],
  ])("answers a list with %s with a 400 naming the field", async (_what, query, says) => {
    expectError(await call.list(query), 400, "invalid_argument", says);
  });

  it("moves the read cursor forward only: an older cursor changes nothing", async () => {
    const { chat, a, b } = uniqueChat();
    const [b1, b2, b3] = [await call.send(chat, b, "b1"), await call.send(chat, b, "b2"), await call.send(chat, b, "b3")];
    const at2 = await call.read({ chat, member: a, cursor: b2.send_time });
    expect(at2.status).toBe(200);
    expect(at2.body).toEqual({ read_cursor: b2.send_time, unread: 1, unread_capped: false });
    // Either member order, and the cursor as a decimal string as pull takes it.
    expect((await call.read({ chat: `${b}:${a}`, member: a, cursor: String(b1.send_time) })).body).toEqual(at2.body);
    expect((await call.list(`member=${a}`)).body.chats).toEqual([row(chat, b3, b2.send_time, 1)]);
    expect((await call.read({ chat, member: a, cursor: b3.send_time })).body).toEqual({ read_cursor: b3.send_time, unread: 0, unread_capped: false });
    expect((await call.read({ chat, member: a, cursor: b1.send_time })).body).toEqual({ read_cursor: b3.send_time, unread: 0, unread_capped: false });
  });

  it("refuses read marks that do not name a message of the chat, a member of it, or a number, with a 400", async () => {
    const { chat, a, b } = uniqueChat();
    const mine = await call.send(chat, b, "in this chat");
    const other = uniqueChat();
    const elsewhere = await call.send(other.chat, other.a, "in another chat");
    const cases: [unknown, RegExp][] = [
      [{ chat, member: a, cursor: mine.send_time + 1 }, /cursor \d+ is not the send_time of a message in chat/],
      [{ chat, member: a, cursor: elsewhere.send_time }, /is not the send_time of a message in chat/],
      [{ chat, member: "carol", cursor: mine.send_time }, new RegExp(`member "carol" is not a member of chat "${chat}"`)],
      [{ chat, member: a, cursor: "soon" }, /cursor must be a whole number >= 0 \(the send_time in microseconds of the newest message read\)/],
      [{ chat, member: a, cursor: -1 }, /cursor must be a whole number >= 0/],
      [{ chat, member: a }, /cursor is required/],
      [{ member: a, cursor: mine.send_time }, /chat is required/],
      [{ chat, cursor: mine.send_time }, /member is required/],
      [[chat], /request body must be a JSON object/],
    ];
    for (const [body, says] of cases) expectError(await call.read(body), 400, "invalid_argument", says);
    expect((await call.list(`member=${a}`)).body.chats).toEqual([row(chat, mine, 0, 1)]);
  });

  it("streams a member's messages, of chats old and new, and the other member's read receipts", async () => {
    const a = uniqueMember("a");
    const [b, c] = [uniqueMember("b"), uniqueMember("c")];
    await call.send(chatOf(a, b), b, "before the stream");
    const stream = await watch(stack.edge.url, `member=${a}`);
    const hi = await call.send(chatOf(a, b), b, "hi");
    const fresh = await call.send(chatOf(c, a), c, "a chat made after the stream opened");
    const own = await call.send(chatOf(a, b), a, "a's own reply");
    expect((await call.read({ chat: chatOf(a, b), member: b, cursor: own.send_time })).status).toBe(200);
    const events = await stream.until(4);
    expect(events.map(({ type, data }) => ({ type, data }))).toEqual([
      { type: "message", data: hi },
      { type: "message", data: fresh },
      { type: "message", data: own },
      { type: "read", data: { chat: chatOf(a, b), member: b, read_cursor: own.send_time } },
    ]);
    expect(new Set(events.map(({ id }) => id)).size).toBe(4);
    expect(events.every(({ id }) => /^[A-Za-z0-9_-]+$/.test(id))).toBe(true);
    await pause(300);
    expect(stream.events).toHaveLength(4);
  });

  it("resumes with Last-Event-ID (or last_event_id) after a disconnect: exactly the events after it", async () => {
    const a = uniqueMember("a");
    const [b, c] = [uniqueMember("b"), uniqueMember("c")];
    const first = await watch(stack.edge.url, `member=${a}`);
    await call.send(chatOf(a, b), b, "1");
    await call.send(chatOf(a, b), b, "2");
    const [, second] = await first.until(2);
    first.close();
    await call.send(chatOf(a, b), b, "3");
    const mine = await call.send(chatOf(a, b), a, "mine");
    expect((await call.read({ chat: chatOf(a, b), member: b, cursor: mine.send_time })).status).toBe(200);
    await call.send(chatOf(a, c), c, "4");
    const byHeader = await watch(stack.edge.url, `member=${a}`, { "last-event-id": second!.id });
    const byQuery = await watch(stack.edge.url, `member=${a}&last_event_id=${second!.id}`);
    await call.send(chatOf(a, c), c, "5");
    const expected = ["message 3", "message mine", `read ${mine.send_time}`, "message 4", "message 5"];
    const summary = (events: EventStream["events"]) => events.map(({ type, data }) => `${type} ${data.text ?? data.read_cursor}`);
    for (const stream of [byHeader, byQuery]) expect(summary(await stream.until(5))).toEqual(expected);
    await pause(300);
    expect(summary(byHeader.events)).toEqual(expected);
  });

  it("reconnects by itself through a dropped connection, as a browser does, and misses nothing", async () => {
    const proxy = await startTcpBalancer([portOf(stack.edge)]);
    cleanups.push(() => proxy.close());
    const { chat, a, b } = uniqueChat();
    const stream = await watch(proxy.url, `member=${a}`);
    await call.send(chat, b, "before the drop");
    await stream.until(1);
    proxy.dropConnections();
    for (const text of ["while away 1", "while away 2"]) await call.send(chat, b, text);
    await waitFor("the client to reconnect", () => stream.opens() >= 2, { timeoutMs: 15_000 });
    await call.send(chat, b, "after");
    expect((await stream.until(4)).map(({ data }) => data.text)).toEqual(["before the drop", "while away 1", "while away 2", "after"]);
  });

  it("resumes its own call to the service when that breaks: the client sees no gap and no reconnect", async () => {
    const { chat, a, b } = uniqueChat();
    const stream = await watch(stack.edge.url, `member=${a}`);
    await call.send(chat, b, "before");
    await stream.until(1);
    toService.dropConnections();
    for (const text of ["after 1", "after 2", "after 3"]) await call.send(chat, b, text);
    expect((await stream.until(4)).map(({ data }) => data.text)).toEqual(["before", "after 1", "after 2", "after 3"]);
    await pause(300);
    expect(stream.events).toHaveLength(4);
    expect(stream.opens()).toBe(1);
  });

  it.each([
    ["chat and member together", "chat=a:b&member=a", /chat and member cannot be combined/],
    ["a cursor on a member stream", "member=a&cursor=5", /cursor is for chat streams/],
    ["neither chat nor member", "", /name the chats to watch: .*, or a member: \/api\/events\?member=alice/],
    ["a chat id as member", "member=a:b", /member ids must not contain/],
    ["a bad resume id", "member=a&last_event_id=not-a-token", /resume_token is malformed/],
    ["member twice", "member=a&member=b", /member is given 2 times; send it once/],
  ])("answers a member stream with %s with a 400 before any event", async (_what, query, says) => {
    expectError(await api.call("GET", `/api/events?${query}`), 400, "invalid_argument", says);
  });

  it("takes a MAX_STREAMS slot like a chat stream, and gives it back when the client leaves", async () => {
    const edge = await startService("edge", { MESSAGE_SERVICE_URL: stack.message.url, MAX_STREAMS: "2", SHUTDOWN_TIMEOUT_MS: "1000" });
    cleanups.push(() => edge.stop());
    const member = await watch(edge.url, `member=${uniqueMember()}`);
    await watch(edge.url, `chat=${uniqueChat().chat}`);
    const edgeApi = restClient(edge.url);
    cleanups.push(() => edgeApi.close());
    const full = await edgeApi.call("GET", `/api/events?member=${uniqueMember()}`);
    expect(full.status).toBe(503);
    expect(full.headers["retry-after"]).toMatch(/^[1-9]\d*$/);
    expect(full.body.error.message).toMatch(/most event streams \(2\)/);
    member.close();
    await waitFor("the member stream's slot to free", async () => (await streamStatus(`${edge.url}/api/events?member=${uniqueMember()}`)) === 200);
  });

  it("ends member streams when the edge shuts down; clients resume on another edge and miss nothing", { timeout: 60_000 }, async () => {
    const edgeEnv = { MESSAGE_SERVICE_URL: stack.message.url, SHUTDOWN_TIMEOUT_MS: "1000", SSE_RETRY_MS: "100" };
    const edges = [await startService("edge", edgeEnv), await startService("edge", edgeEnv)];
    cleanups.push(() => Promise.all(edges.map((edge) => edge.stop())));
    const toEdges = await startTcpBalancer([portOf(edges[0]!)]);
    cleanups.push(() => toEdges.close());
    const { chat, a, b } = uniqueChat();
    const stream = await watch(toEdges.url, `member=${a}`);
    await call.send(chat, b, "1");
    await stream.until(1);
    toEdges.setBackends([portOf(edges[1]!)]);
    const stopped = edges[0]!.stop("SIGTERM");
    await call.send(chat, b, "2");
    expect(await stopped).toBe(0);
    await waitFor("the client to reconnect", () => stream.opens() >= 2, { timeoutMs: 15_000 });
    await call.send(chat, b, "3");
    expect((await stream.until(3)).map(({ data }) => data.text)).toEqual(["1", "2", "3"]);
    await pause(300);
    expect(stream.events).toHaveLength(3);
  });
});

describe("conversations with bearer tokens (AUTH_MODE=jwt): only as yourself", () => {
  let stack: Stack;
  let api: RestClient;
  let call: ReturnType<typeof conversations>;
  const streams: EventStream[] = [];
  const key = serviceKey("conversations-test");
  const as = async (user: string) => bearer(await signToken(user));

  beforeAll(async () => {
    stack = await startStack(
      { REDIS_URL: inject("redisUrl"), AUTH_REQUIRE_USER: "true", SERVICE_AUTH_KEYS: key.entry },
      { AUTH_MODE: "jwt", AUTH_ISSUER: testIssuer, AUTH_AUDIENCE: testAudience, AUTH_JWT_SECRET: testSecret, SERVICE_AUTH_KEY: key.entry },
    );
    api = restClient(stack.edge.url);
    call = conversations(api);
  });
  afterAll(async () => {
    for (const stream of streams) stream.close();
    await api?.close();
    await stack?.stop();
  });

  it("lists the token's user's chats by default, and refuses anyone else's list (403) or no token (401)", async () => {
    const { chat, a, b } = uniqueChat();
    const sent = await call.send(chat, b, "to a", await as(b));
    const own = await call.list("", await as(a));
    expect(own.status).toBe(200);
    expect(own.body).toEqual({ chats: [row(chat, sent, 0, 1)], has_more: false, next_cursor: "" });
    expect((await call.list(`member=${a}`, await as(a))).body).toEqual(own.body);
    expectError(await call.list(`member=${b}`, await as(a)), 403, "permission_denied", `you may only act as yourself ("${a}"), not as "${b}"`);
    expect((await call.list(`member=${a}`)).status).toBe(401);
  });

  it("marks read as the token's user by default, and refuses to move anyone else's cursor (403)", async () => {
    const { chat, a, b } = uniqueChat();
    const sent = await call.send(chat, b, "to a", await as(b));
    const read = await call.read({ chat, cursor: sent.send_time }, await as(a));
    expect(read.status).toBe(200);
    expect(read.body).toEqual({ read_cursor: sent.send_time, unread: 0, unread_capped: false });
    expect((await call.list("", await as(a))).body.chats).toEqual([row(chat, sent, sent.send_time, 0)]);
    const sentBack = await call.send(chat, a, "to b", await as(a));
    expectError(await call.read({ chat, member: b, cursor: sentBack.send_time }, await as(a)), 403, "permission_denied", `you may only act as yourself ("${a}"), not as "${b}"`);
    // b's cursor did not move: a's message is still unread for b; b's list carries a's receipt.
    expect((await call.list("", await as(b))).body.chats).toEqual([row(chat, sentBack, sent.send_time, 1, sent.send_time)]);
  });

  it("streams the token's user's events with neither chat nor member, and refuses another member's stream (403)", async () => {
    const { chat, a, b } = uniqueChat();
    const token = await signToken(a);
    const stream = await openEventStream(`${stack.edge.url}/api/events?access_token=${token}`, {}, memberTypes);
    streams.push(stream);
    const sent = await call.send(chat, b, "to a", await as(b));
    const reply = await call.send(chat, a, "to b", await as(a));
    expect((await call.read({ chat, cursor: reply.send_time }, await as(b))).status).toBe(200);
    expect((await stream.until(3)).map(({ type, data }) => ({ type, data }))).toEqual([
      { type: "message", data: sent },
      { type: "message", data: reply },
      { type: "read", data: { chat, member: b, read_cursor: reply.send_time } },
    ]);
    expectError(await api.call("GET", `/api/events?member=${b}`, { headers: await as(a) }), 403, "permission_denied", `you may only act as yourself ("${a}"), not as "${b}"`);
    expect((await api.call("GET", `/api/events?member=${a}`)).status).toBe(401);
  });
});
