import { Code, ConnectError } from "@connectrpc/connect";
import { idempotencyKeyProblem } from "@chat/proto";
import { maxRetryWindowMs, type RetryKey } from "../store/store.js";

/** Limits that bound what a client may send or ask for. */
export interface ChatLimits {
  /** Longest member id, in Unicode code points. */
  readonly maxMemberIdLength: number;
  /** Longest message text, in Unicode code points. */
  readonly maxTextLength: number;
  /** Page size used when a pull asks for 0 (or omits limit). */
  readonly defaultPullLimit: number;
  /** Largest page a pull returns; larger requests are capped to it. */
  readonly maxPullLimit: number;
  /** How long an idempotency key is remembered, at least (and at most twice), in seconds. */
  readonly idempotencyTtlSeconds: number;
  /** Most chats one subscription may watch. */
  readonly maxSubscribeChats: number;
}

export const defaultChatLimits: ChatLimits = {
  maxMemberIdLength: 64,
  maxTextLength: 4096,
  defaultPullLimit: 10,
  maxPullLimit: 100,
  idempotencyTtlSeconds: 86_400,
  maxSubscribeChats: 100,
};

/** A chat named by its two members; `id` is the canonical "lower:higher" form. */
export interface Chat {
  readonly id: string;
  readonly members: readonly [string, string];
}

export interface SendCommand {
  readonly chat: Chat;
  readonly sender: string;
  readonly text: string;
  /** Idempotency key, or "" for none. */
  readonly clientMessageId: string;
  /** The caller's retry protection, when it sent one instead of a client_message_id. */
  readonly retryKey: RetryKey | undefined;
}

export interface SubscribeQuery {
  /** Each chat once, with the send_time to replay from (0n: from the subscription's start). */
  readonly chats: readonly { readonly chat: Chat; readonly cursor: bigint }[];
}

export interface PullQuery {
  readonly chat: Chat;
  readonly cursor: bigint;
  readonly limit: number;
  readonly reverse: boolean;
}

// Separators, control characters and lone surrogates make ids that look alike or cannot be
// stored byte-exact; ":" separates the two members.
const forbiddenInMemberId = /[:\p{Cc}\p{Cf}\p{Z}\p{Cs}]/u;
const loneSurrogate = /\p{Cs}/u;

function invalid(message: string): ConnectError {
  return new ConnectError(message, Code.InvalidArgument);
}

function codePoints(value: string): number {
  let count = 0;
  for (const _ of value) count++;
  return count;
}

function checkMemberId(member: string, position: string, limits: ChatLimits): void {
  if (member === "") {
    throw invalid(`chat: the ${position} member id is empty; use "member1:member2"`);
  }
  if (codePoints(member) > limits.maxMemberIdLength) {
    throw invalid(`chat: member ids are at most ${limits.maxMemberIdLength} characters`);
  }
  if (forbiddenInMemberId.test(member)) {
    throw invalid(`chat: member ids must not contain spaces, control characters or ":"`);
  }
}

/** Parses "a:b" (in either order) into a chat whose id is canonical: members sorted by code unit. */
export function canonicalChat(raw: string, limits: ChatLimits): Chat {
  if (raw === "") throw invalid(`chat is required, e.g. "alice:bob"`);
  const parts = raw.split(":");
  if (parts.length !== 2) {
    throw invalid(`chat must be exactly two member ids joined by ":", e.g. "alice:bob"`);
  }
  const [first, second] = parts as [string, string];
  checkMemberId(first, "first", limits);
  checkMemberId(second, "second", limits);
  const members: [string, string] = first <= second ? [first, second] : [second, first];
  return { id: `${members[0]}:${members[1]}`, members };
}

const retryKeyPattern = /^[A-Za-z0-9_-]{16,64}$/;

function validateRetryKey(retryKey: { key: string; sinceFirstAttemptMs: bigint } | undefined, clientMessageId: string): RetryKey | undefined {
  if (retryKey === undefined) return undefined;
  if (clientMessageId !== "") throw invalid("set client_message_id or retry_key, not both");
  if (!retryKeyPattern.test(retryKey.key)) {
    throw invalid("retry_key.key must be 16 to 64 characters from A-Z, a-z, 0-9, \"-\" and \"_\"");
  }
  const since = retryKey.sinceFirstAttemptMs;
  if (since < 0n) throw invalid("retry_key.since_first_attempt_ms must be 0 (a first attempt) or more");
  if (since > BigInt(maxRetryWindowMs)) {
    throw invalid(`retry_key.since_first_attempt_ms is past the retry window (${maxRetryWindowMs} ms); a retry this late cannot be told from a new message`);
  }
  return { key: retryKey.key, sinceFirstAttemptMs: Number(since) };
}

export function validateSend(
  request: {
    chat: string;
    text: string;
    sender: string;
    clientMessageId: string;
    idempotencyTtlSeconds?: number;
    retryKey?: { key: string; sinceFirstAttemptMs: bigint } | undefined;
  },
  limits: ChatLimits,
): SendCommand {
  const chat = canonicalChat(request.chat, limits);
  if (request.sender === "") throw invalid("sender is required");
  if (!chat.members.includes(request.sender)) {
    throw invalid(`sender "${request.sender}" is not a member of chat "${chat.id}"`);
  }
  if (request.text === "") throw invalid("text is required and must not be empty");
  if (codePoints(request.text) > limits.maxTextLength) {
    throw invalid(`text is longer than ${limits.maxTextLength} characters`);
  }
  if (loneSurrogate.test(request.text)) {
    throw invalid("text contains an unpaired UTF-16 surrogate; send valid Unicode");
  }
  const clientMessageId = request.clientMessageId;
  // The rule the edge applies to the Idempotency-Key header too (@chat/proto).
  const keyProblem = idempotencyKeyProblem(clientMessageId);
  if (keyProblem !== undefined) throw invalid(`client_message_id ${keyProblem}`);
  // The service remembers every key for its own window (IDEMPOTENCY_TTL_SECONDS), which is
  // at least what a caller may ask for; the field is still checked.
  if ((request.idempotencyTtlSeconds ?? 0) < 0) throw invalid("idempotency_ttl_seconds must be 0 (the default) or more");
  const retryKey = validateRetryKey(request.retryKey, clientMessageId);
  return { chat, sender: request.sender, text: request.text, clientMessageId, retryKey };
}

export function validatePull(
  request: { chat: string; cursor: bigint; limit: number; reverse: boolean },
  limits: ChatLimits,
): PullQuery {
  const chat = canonicalChat(request.chat, limits);
  if (request.cursor < 0n) throw invalid("cursor must be 0 or a send_time (microseconds)");
  if (request.limit < 0) throw invalid(`limit must be between 0 and ${limits.maxPullLimit}`);
  const limit =
    request.limit === 0 ? limits.defaultPullLimit : Math.min(request.limit, limits.maxPullLimit);
  return { chat, cursor: request.cursor, limit, reverse: request.reverse };
}

export function validateSubscribe(
  request: { chats: readonly { chat: string; cursor: bigint }[] },
  limits: ChatLimits,
): SubscribeQuery {
  if (request.chats.length === 0) throw invalid(`name at least one chat to subscribe to, e.g. "alice:bob"`);
  if (request.chats.length > limits.maxSubscribeChats) {
    throw invalid(`a subscription watches at most ${limits.maxSubscribeChats} chats; this one names ${request.chats.length}`);
  }
  const chats = new Map<string, { chat: Chat; cursor: bigint }>();
  for (const { chat: raw, cursor } of request.chats) {
    const chat = canonicalChat(raw, limits);
    if (cursor < 0n) throw invalid(`cursor of chat "${chat.id}" must be 0 or a send_time (microseconds)`);
    // Named twice (perhaps in the other member order): watched once, from its first cursor.
    if (!chats.has(chat.id)) chats.set(chat.id, { chat, cursor });
  }
  return { chats: [...chats.values()] };
}

/** Most unread messages a chat list or a read answer counts; beyond it, "capped". */
export const unreadCap = 100;
/** Chats in a list page when the request asks for 0, and the most it may ask for. */
export const defaultListLimit = 20;
export const maxListLimit = 100;

/** A member id on its own (the member of a list, a read or a member stream). */
export function validateMember(member: string, field: string, limits: ChatLimits): string {
  if (member === "") throw invalid(`${field} is required: a member id, e.g. "alice"`);
  if (codePoints(member) > limits.maxMemberIdLength) throw invalid(`${field}: member ids are at most ${limits.maxMemberIdLength} characters`);
  if (forbiddenInMemberId.test(member)) throw invalid(`${field}: member ids must not contain spaces, control characters or ":"`);
  return member;
}

export interface ListChatsQuery {
  readonly member: string;
  readonly limit: number;
  /** The previous page's last row, when this is not the first page. */
  readonly from: { readonly activity: bigint; readonly chatId: string } | undefined;
}

/** The opaque next_cursor of a chat list page: its last row's activity and chat id. */
export function encodeListCursor(row: { readonly activity: bigint; readonly chatId: string }): string {
  return Buffer.from(`${row.activity}.${row.chatId}`, "utf8").toString("base64url");
}

const listCursorPattern = /^(\d{1,19})\.(.+)$/su;

export function validateListChats(request: { member: string; limit: number; cursor: string }, limits: ChatLimits): ListChatsQuery {
  const member = validateMember(request.member, "member", limits);
  if (request.limit < 0) throw invalid(`limit must be between 0 and ${maxListLimit}`);
  const limit = request.limit === 0 ? defaultListLimit : Math.min(request.limit, maxListLimit);
  if (request.cursor === "") return { member, limit, from: undefined };
  const malformed = () => invalid("cursor is malformed; pass the next_cursor of the previous page, or none for the first page");
  if (!/^[A-Za-z0-9_-]+$/.test(request.cursor)) throw malformed();
  const match = listCursorPattern.exec(Buffer.from(request.cursor, "base64url").toString("utf8"));
  if (!match) throw malformed();
  let chat: Chat;
  try {
    chat = canonicalChat(match[2]!, limits);
  } catch {
    throw malformed();
  }
  if (chat.id !== match[2] || !chat.members.includes(member)) throw malformed();
  return { member, limit, from: { activity: BigInt(match[1]!), chatId: chat.id } };
}

export interface MarkReadCommand {
  readonly chat: Chat;
  readonly member: string;
  readonly cursor: bigint;
}

export function validateMarkRead(request: { chat: string; member: string; cursor: bigint }, limits: ChatLimits): MarkReadCommand {
  const chat = canonicalChat(request.chat, limits);
  const member = validateMember(request.member, "member", limits);
  if (!chat.members.includes(member)) throw invalid(`member "${member}" is not a member of chat "${chat.id}"`);
  if (request.cursor <= 0n) throw invalid("cursor is required: the send_time (microseconds) of the newest message read");
  return { chat, member, cursor: request.cursor };
}
