import type { Context } from "koa";
import getRawBody from "raw-body";
import { discardRequestBody } from "@chat/runtime";
import { ApiError, invalidArgument } from "../http/api-error.js";

/** Request fields by canonical name; values are whatever JSON or the query string held. */
export type RequestFields = Record<string, unknown>;

// Keys match case-insensitively and ignoring "_" and "-": "Chat", "client_message_id",
// "clientMessageId" and "Client-Message-Id" all name the same field.
function foldKey(key: string): string {
  return key.toLowerCase().replace(/[_-]/g, "");
}

/** The fields one request shape accepts: each folded key, and the name it stands for. */
export type FieldNames = ReadonlyMap<string, string>;

export function fieldNames(names: readonly string[]): FieldNames {
  return new Map(names.map((name) => [foldKey(name), name]));
}

function foldKeys(source: Iterable<[string, unknown]>, canonical: FieldNames): RequestFields {
  // Every field is present, undefined when not sent, so schemas see each one.
  const fields: RequestFields = Object.fromEntries([...canonical.values()].map((name) => [name, undefined]));
  const seenAs = new Map<string, string>();
  for (const [key, value] of source) {
    const name = canonical.get(foldKey(key));
    if (name === undefined) continue;
    const earlier = seenAs.get(name);
    if (earlier !== undefined) {
      throw invalidArgument(`"${earlier}" and "${key}" both set ${name}; send it once`);
    }
    seenAs.set(name, key);
    fields[name] = value;
  }
  return fields;
}

// Body bytes left unread would be taken for the next request on a keep-alive connection
// (it would hang or misparse): when the body is not read to its end, close the connection.
const closeConnection = { connection: "close" };
// Invalid UTF-8 is refused rather than replaced with U+FFFD, so what is stored is what was sent.
const strictUtf8 = new TextDecoder("utf-8", { fatal: true });
// What is read and dropped of a refused body before it is answered, so a client still sending
// gets the answer instead of a connection reset; past this, it is answered and then cut.
const discardLimits = { maxBytes: 1024 * 1024, maxMs: 2_000 };

async function readBody(ctx: Context, maxBytes: number): Promise<string> {
  let bytes: Buffer;
  try {
    bytes = await getRawBody(ctx.req, { limit: maxBytes });
  } catch (error) {
    const type = (error as { type?: string }).type;
    await discardRequestBody(ctx.req, discardLimits);
    if (type === "entity.too.large") {
      throw new ApiError(413, "payload_too_large", `request body is larger than ${maxBytes} bytes`, closeConnection);
    }
    throw new ApiError(400, "invalid_argument", "request body could not be read completely", closeConnection);
  }
  try {
    return strictUtf8.decode(bytes);
  } catch {
    throw invalidArgument("request body is not valid UTF-8");
  }
}

function parseJsonObject(text: string): [string, unknown][] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw invalidArgument(`request body is not valid JSON: ${(error as Error).message}`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw invalidArgument("request body must be a JSON object");
  }
  return Object.entries(value);
}

function queryEntries(search: string): [string, unknown][] {
  // URLSearchParams would turn malformed escapes and invalid UTF-8 into other characters.
  try {
    decodeURIComponent(search.replace(/\+/g, " "));
  } catch {
    throw invalidArgument("the query string (or form body) is not valid percent-encoded UTF-8");
  }
  return [...new URLSearchParams(search)];
}

function bodyEntries(ctx: Context, text: string): [string, unknown][] {
  const type = (ctx.request.type || "").toLowerCase();
  const looksLikeJson = text.trimStart().startsWith("{");
  if (type === "" || type === "application/json" || type.endsWith("+json") || type === "text/plain") {
    return parseJsonObject(text);
  }
  if (type === "application/x-www-form-urlencoded") {
    // `curl -d '{"chat":...}'` labels JSON as a form; accept both.
    return looksLikeJson ? parseJsonObject(text) : queryEntries(text);
  }
  throw new ApiError(
    415,
    "unsupported_media_type",
    `unsupported Content-Type "${type}"; send application/json`,
  );
}

/**
 * Reads the named fields of a request from its body when it has one (JSON, or a form), or
 * else from the query string, so `GET /api/pull` works with a JSON body as the original
 * clients send it and with query parameters as browsers must.
 */
export async function readFields(ctx: Context, canonical: FieldNames, maxBodyBytes: number): Promise<RequestFields> {
  const hasBody = ctx.request.length > 0 || ctx.get("transfer-encoding") !== "";
  const text = hasBody ? await readBody(ctx, maxBodyBytes) : "";
  if (text.trim() !== "") return foldKeys(bodyEntries(ctx, text), canonical);
  return foldKeys(queryEntries(ctx.querystring), canonical);
}
