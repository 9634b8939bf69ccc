// The single-process baseline: the REST API's POST /api/send and GET /api/pull on plain
// node:http and ioredis, writing with the message service's own scripts, arguments and key
// layout (from the built message service): send.lua for the chat, then member-record.lua in
// each member's slot for their chat list and event log, as every send of the service does.
// So the only differences from the deployed stack are the framework, the RPC hop and the
// validation depth. Not a product: it exists so the stack's cost can be read as a ratio.
//
// Env: PORT (default 8090), HOST (default 127.0.0.1), REDIS_URL (required).
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import { createRequire } from "node:module";

// Resolve ioredis from the message service, so both sides use the very same client.
const requireFromService = createRequire(new URL("../../services/message/package.json", import.meta.url));
const { Redis } = requireFromService("ioredis");

const built = (path) => new URL(`../../services/message/dist/store/redis/${path}`, import.meta.url);
const sendScript = readFileSync(built("commands/send.lua"), "utf8");
const { chatKeys, memberKeys } = await import(built("keys.js"));
const { memberScript } = await import(built("redis-members.js"));
const { sendScriptArgs, sendScriptKeyCount } = await import(built("send-command.js"));
const maxBodyBytes = 64 * 1024;
const defaultPullLimit = 10;
const maxPullLimit = 100;
const sendSettings = { retention: { maxMessages: 0, maxAgeSeconds: 0 }, idempotencyWindowSeconds: 86_400 };
// The service's defaults: member logs of at most 1,000 events and 7 days; chats never leave lists.
const memberLog = { maxEvents: 1_000, maxAgeMs: 7 * 24 * 3_600_000 };

class BadRequest extends Error {}

/** "a:b" in either order → the canonical chat (members sorted by code unit). */
function canonicalChat(raw) {
  if (typeof raw !== "string") throw new BadRequest("chat is required");
  const parts = raw.split(":");
  if (parts.length !== 2 || parts[0] === "" || parts[1] === "") {
    throw new BadRequest('chat must be two member ids joined by ":"');
  }
  const members = parts[0] <= parts[1] ? parts : [parts[1], parts[0]];
  return { id: `${members[0]}:${members[1]}`, members };
}

function reply(response, status, body) {
  const json = JSON.stringify(body);
  response.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(json),
  });
  response.end(json);
}

function readBody(request) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    request.on("data", (chunk) => {
      size += chunk.length;
      if (size > maxBodyBytes) reject(new BadRequest("body too large"));
      else chunks.push(chunk);
    });
    request.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    request.on("error", reject);
  });
}

function toJson(chatId, sendTime, sender, text) {
  return { chat: chatId, text, sender, send_time: Number(sendTime) };
}

async function send(redis, request) {
  let body;
  try {
    body = JSON.parse(await readBody(request));
  } catch (error) {
    throw error instanceof BadRequest ? error : new BadRequest("malformed JSON");
  }
  if (typeof body !== "object" || body === null) throw new BadRequest("the body must be a JSON object");
  const chat = canonicalChat(body.chat);
  const { text, sender } = body;
  if (typeof sender !== "string" || !chat.members.includes(sender)) {
    throw new BadRequest("sender must be a member of the chat");
  }
  if (typeof text !== "string" || text === "") throw new BadRequest("text is required");
  const clientMessageId = body.client_message_id ?? request.headers["idempotency-key"] ?? "";
  // As the edge does: a retry key when the client gave no key of its own.
  const retryKey = clientMessageId === "" ? { key: randomBytes(12).toString("base64url"), sinceFirstAttemptMs: 0 } : undefined;
  const args = sendScriptArgs(chat.id, { sender, text, clientMessageId, retryKey }, sendSettings);
  const [sendTime, storedSender, storedText, replayed, previous] = await redis.chatSend(...args);
  if (replayed !== 1) {
    const members = chat.members[0] === chat.members[1] ? [chat.members[0]] : chat.members;
    await Promise.all(members.map((member) => record(redis, member, chat.id, previous, sendTime, storedSender, storedText)));
  }
  return { status: "success", message: toJson(chat.id, sendTime, storedSender, storedText) };
}

/**
 * The send in one member's chat list and event log, as the service records it
 * (member-record.lua). Where two sends of one chat race, a record can arrive after a later
 * one; the service then catches the record up from the chat, which the baseline leaves out:
 * it is rare in the bench's load and would only add to the baseline's cost.
 */
function record(redis, member, chatId, previous, sendTime, sender, text) {
  const keys = memberKeys(member);
  return redis.memberRecord(keys.chats, keys.read, keys.events, keys.wake, member, chatId, previous, memberLog.maxEvents, memberLog.maxAgeMs, "0", sendTime, sender, text);
}

function integerParam(query, name, fallback) {
  const raw = query.get(name);
  if (raw === null || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < 0) throw new BadRequest(`${name} must be a non-negative integer`);
  return value;
}

async function pull(redis, query) {
  const chat = canonicalChat(query.get("chat"));
  const cursor = integerParam(query, "cursor", 0);
  const asked = integerParam(query, "limit", 0);
  const limit = asked === 0 ? defaultPullLimit : Math.min(asked, maxPullLimit);
  const reverse = query.get("reverse") === "true";
  const key = chatKeys(chat.id).messages;
  const from = cursor === 0 ? undefined : `${cursor}-0`;
  // As the service does: history_start comes with the page, or from a second read in the same round trip.
  const pipeline = redis.pipeline();
  if (reverse) pipeline.xrevrange(key, from ?? "+", "-", "COUNT", limit + 1);
  else pipeline.xrange(key, from ?? "-", "+", "COUNT", limit + 1);
  const startsAtOldest = !reverse && cursor === 0;
  if (!startsAtOldest) pipeline.xrange(key, "-", "+", "COUNT", 1);
  const [[pageError, entries], [oldestError, oldest] = [null, []]] = await pipeline.exec();
  if (pageError || oldestError) throw pageError ?? oldestError;
  // Entries come from send.lua only: id "<send_time>-0", fields [s, sender, t, text, k, retry key].
  const messages = entries.slice(0, limit).map(([id, fields]) => toJson(chat.id, id.slice(0, -2), fields[1], fields[3]));
  const next = entries[limit];
  const first = startsAtOldest ? entries[0] : oldest[0];
  return {
    messages,
    has_more: next !== undefined,
    next_cursor: next ? Number(next[0].slice(0, -2)) : 0,
    history_start: first ? Number(first[0].slice(0, -2)) : 0,
  };
}

async function route(redis, request, response) {
  const url = new URL(request.url ?? "/", "http://baseline");
  if (request.method === "POST" && url.pathname === "/api/send") return reply(response, 200, await send(redis, request));
  if (request.method === "GET" && url.pathname === "/api/pull") return reply(response, 200, await pull(redis, url.searchParams));
  if (url.pathname === "/healthz") return reply(response, 200, { status: "ok" });
  if (url.pathname === "/readyz") return reply(response, 200, { status: await redis.ping() });
  return reply(response, 404, { error: { code: "not_found", message: "no such route" } });
}

const redisUrl = process.env.REDIS_URL;
if (!redisUrl) {
  process.stderr.write("REDIS_URL is required\n");
  process.exit(1);
}
const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1, commandTimeout: 2_000 });
redis.defineCommand("chatSend", { numberOfKeys: sendScriptKeyCount, lua: sendScript });
redis.defineCommand("memberRecord", { numberOfKeys: 4, lua: memberScript("member-record") });
// Commands fail (503) while Redis is away; the connection errors themselves need no log.
redis.on("error", () => {});

const server = createServer((request, response) => {
  route(redis, request, response).catch((error) => {
    if (error instanceof BadRequest) reply(response, 400, { error: { code: "invalid_argument", message: error.message } });
    else reply(response, 503, { error: { code: "unavailable", message: String(error?.message ?? error) } });
  });
});
server.keepAliveTimeout = 65_000;
server.listen(Number(process.env.PORT ?? 8090), process.env.HOST ?? "127.0.0.1");

const stop = () => server.close(() => redis.quit().finally(() => process.exit(0)));
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
