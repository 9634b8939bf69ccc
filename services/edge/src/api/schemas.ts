import { z } from "zod";
import { invalidArgument } from "../http/api-error.js";
import { fieldNames, type RequestFields } from "./request-fields.js";

const int32Max = 2_147_483_647;
const int64Max = 9_223_372_036_854_775_807n;

// JSON can carry a lone UTF-16 surrogate ("\ud800"); protobuf's UTF-8 would silently turn it
// into U+FFFD on the way to the message service, storing (or addressing) something else.
const loneSurrogate = /\p{Cs}/u;

function text(name: string) {
  return z
    .string({
      error: (issue) => (issue.input === undefined ? `${name} is required` : `${name} must be a string`),
    })
    .refine((value) => !loneSurrogate.test(value), {
      error: `${name} contains an unpaired UTF-16 surrogate; send valid Unicode`,
    });
}

// JSON numbers, or decimal strings as query parameters carry them; absent means `fallback`.
function wholeNumber(name: string, hint: string, fallback: bigint) {
  const message = `${name} must be a whole number >= 0 (${hint})`;
  return z.unknown().transform((value, ctx) => {
    if (value === undefined) return fallback;
    if (typeof value === "number" && Number.isSafeInteger(value) && value >= 0) return BigInt(value);
    if (typeof value === "string" && /^\d{1,19}$/.test(value) && BigInt(value) <= int64Max) {
      return BigInt(value);
    }
    ctx.addIssue({ code: "custom", message });
    return z.NEVER;
  });
}

const reverseFlag = z.unknown().transform((value, ctx) => {
  if (value === undefined) return false;
  if (value === true || value === "true" || value === "1" || value === 1) return true;
  if (value === false || value === "false" || value === "0" || value === 0) return false;
  ctx.addIssue({ code: "custom", message: "reverse must be true or false" });
  return z.NEVER;
});

export const sendFields = fieldNames(["chat", "text", "sender", "client_message_id"]);
export const pullFields = fieldNames(["chat", "cursor", "limit", "reverse"]);
/** The fields of GET /api/chats. */
export const listChatsFields = fieldNames(["member", "limit", "cursor"]);
/** The fields of POST /api/read. */
export const markReadFields = fieldNames(["chat", "member", "cursor"]);

const sendSchema = z.object({
  chat: text("chat"),
  text: text("text"),
  sender: text("sender"),
  client_message_id: text("client_message_id").optional(),
});

// Larger than any page: the message service caps it to its maximum page size.
const pageLimit = wholeNumber("limit", "0 means the default page size", 0n).transform((value) =>
  Number(value > BigInt(int32Max) ? BigInt(int32Max) : value),
);

const pullSchema = z.object({
  chat: text("chat"),
  cursor: wholeNumber("cursor", "a send_time in microseconds, or 0", 0n),
  limit: pageLimit,
  reverse: reverseFlag,
});

// `member` may be left out when a bearer token names the user (routes.ts fills it in).
const listChatsSchema = z.object({
  member: text("member").optional(),
  limit: pageLimit,
  // Opaque: the next_cursor of the previous page; the message service checks it.
  cursor: text("cursor").default(""),
});

const markReadSchema = z.object({
  chat: text("chat"),
  member: text("member").optional(),
  // 0 when left out: the message service then says a cursor is required.
  cursor: wholeNumber("cursor", "the send_time in microseconds of the newest message read", 0n),
});

function parse<T extends z.ZodType>(schema: T, fields: RequestFields): z.output<T> {
  const result = schema.safeParse(fields);
  if (result.success) return result.data;
  throw invalidArgument(result.error.issues.map((issue) => issue.message).join("; "));
}

export type SendInput = z.output<typeof sendSchema>;
export type PullInput = z.output<typeof pullSchema>;
export type ListChatsInput = z.output<typeof listChatsSchema>;
export type MarkReadInput = z.output<typeof markReadSchema>;

export const parseSend = (fields: RequestFields): SendInput => parse(sendSchema, fields);
export const parsePull = (fields: RequestFields): PullInput => parse(pullSchema, fields);
/** A chat list request, or a 400 naming the field to fix. */
export const parseListChats = (fields: RequestFields): ListChatsInput => parse(listChatsSchema, fields);
/** A read mark, or a 400 naming the field to fix. */
export const parseMarkRead = (fields: RequestFields): MarkReadInput => parse(markReadSchema, fields);
