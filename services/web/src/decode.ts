// Checks what the server answers before the page relies on it: JSON is `unknown` until a
// decoder here has looked at every field.
import type { AuthMode, ChatSummary, ChatsPage, Message, PullPage, ReadReceipt, ReadState } from "./types.js";

/** The server answered something this page does not understand. */
export class DecodeError extends Error {}

type Fields = Record<string, unknown>;

function isFields(value: unknown): value is Fields {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function fields(value: unknown, what: string): Fields {
  if (!isFields(value)) throw new DecodeError(`${what} is not an object`);
  return value;
}

function text(value: Fields, name: string): string {
  const field = value[name];
  if (typeof field !== "string") throw new DecodeError(`${name} is not a string`);
  return field;
}

function integer(value: Fields, name: string): number {
  const field = value[name];
  if (typeof field !== "number" || !Number.isSafeInteger(field)) throw new DecodeError(`${name} is not an integer`);
  return field;
}

function flag(value: Fields, name: string): boolean {
  const field = value[name];
  if (typeof field !== "boolean") throw new DecodeError(`${name} is not a boolean`);
  return field;
}

function list<T>(value: Fields, name: string, item: (entry: unknown) => T): T[] {
  const field = value[name];
  if (!Array.isArray(field)) throw new DecodeError(`${name} is not a list`);
  return field.map(item);
}

export function decodeMessage(value: unknown): Message {
  const message = fields(value, "message");
  return {
    chat: text(message, "chat"),
    text: text(message, "text"),
    sender: text(message, "sender"),
    send_time: integer(message, "send_time"),
  };
}

export function decodePullPage(value: unknown): PullPage {
  const page = fields(value, "pull answer");
  return {
    messages: list(page, "messages", decodeMessage),
    has_more: flag(page, "has_more"),
    next_cursor: integer(page, "next_cursor"),
  };
}

export function decodeReadState(value: unknown): ReadState {
  const state = fields(value, "read state");
  return {
    read_cursor: integer(state, "read_cursor"),
    unread: integer(state, "unread"),
    unread_capped: flag(state, "unread_capped"),
  };
}

function decodeChatSummary(value: unknown): ChatSummary {
  const row = fields(value, "chat");
  const last = row["last_message"];
  return {
    ...decodeReadState(row),
    chat: text(row, "chat"),
    last_message: last === undefined || last === null ? null : decodeMessage(last),
    other_read_cursor: integer(row, "other_read_cursor"),
  };
}

export function decodeChatsPage(value: unknown): ChatsPage {
  const page = fields(value, "chats answer");
  return {
    chats: list(page, "chats", decodeChatSummary),
    has_more: flag(page, "has_more"),
    next_cursor: text(page, "next_cursor"),
  };
}

/** The stored message in a send's answer, `{"status":"success","message":{…}}`. */
export function decodeSendAnswer(value: unknown): Message {
  return decodeMessage(fields(value, "send answer")["message"]);
}

export function decodeReadReceipt(value: unknown): ReadReceipt {
  const receipt = fields(value, "read event");
  return {
    chat: text(receipt, "chat"),
    member: text(receipt, "member"),
    read_cursor: integer(receipt, "read_cursor"),
  };
}

export function decodeAuthMode(value: unknown): AuthMode {
  return fields(value, "client config")["auth_mode"] === "jwt" ? "jwt" : "none";
}

/** The words of an error body `{"error":{"code","message"}}`, or undefined if it is not one. */
export function errorMessage(value: unknown): string | undefined {
  if (!isFields(value)) return undefined;
  const error = value["error"];
  if (!isFields(error)) return undefined;
  const message = error["message"];
  return typeof message === "string" && message !== "" ? message : undefined;
}
