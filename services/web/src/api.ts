// The REST calls this page makes (docs/api.md), and the words it shows when one fails.
import {
  DecodeError,
  decodeAuthMode,
  decodeChatsPage,
  decodePullPage,
  decodeReadState,
  decodeSendAnswer,
  errorMessage,
} from "./decode.js";
import type { Session } from "./session.js";
import type { AuthMode, ChatsPage, Message, PullPage, ReadState } from "./types.js";

/** A failed call, with a message meant for the person using the page. */
export class ApiError extends Error {
  /** The HTTP status, or 0 when the server could not be reached. */
  readonly status: number;

  constructor(message: string, status: number) {
    super(message);
    this.name = "ApiError";
    this.status = status;
  }
}

const unreachable = "Could not reach the server. Check your connection, then try again.";

/** The words to show for any error a call may throw. */
export function errorText(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  if (error instanceof DecodeError) return "The server sent an answer this page does not understand.";
  return unreachable;
}

async function call(session: Session | null, path: string, init: RequestInit = {}): Promise<unknown> {
  const headers = new Headers(init.headers);
  headers.set("Accept", "application/json");
  if (session?.token) headers.set("Authorization", `Bearer ${session.token}`);
  let response: Response;
  try {
    response = await fetch(path, { ...init, headers });
  } catch {
    throw new ApiError(unreachable, 0);
  }
  const body: unknown = await response.json().catch(() => undefined);
  if (!response.ok) {
    const words = errorMessage(body) ?? `The server answered ${response.status} ${response.statusText}.`.trim();
    throw new ApiError(words, response.status);
  }
  return body;
}

/** A query string; a parameter given as undefined is left out. */
function query(params: Record<string, string | number | boolean | undefined>): string {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) if (value !== undefined) search.set(name, String(value));
  return search.toString();
}

/** How the edge authenticates; "none" when it cannot say. */
export async function fetchAuthMode(): Promise<AuthMode> {
  try {
    return decodeAuthMode(await call(null, "/api/client-config"));
  } catch {
    return "none";
  }
}

export async function listChats(session: Session, cursor = ""): Promise<ChatsPage> {
  const params = { member: session.member, limit: 50, cursor: cursor === "" ? undefined : cursor };
  return decodeChatsPage(await call(session, `/api/chats?${query(params)}`));
}

/** A page of `chat`, newest first, from `cursor` (inclusive; 0 is the newest end). */
export async function pullNewestFirst(session: Session, chat: string, cursor: number, limit: number): Promise<PullPage> {
  const params = { chat, reverse: true, limit, cursor: cursor > 0 ? cursor : undefined };
  return decodePullPage(await call(session, `/api/pull?${query(params)}`));
}

/** Sends one message; the key makes a retry answer the original instead of storing a copy. */
export async function sendMessage(session: Session, chat: string, text: string, idempotencyKey: string): Promise<Message> {
  const body = JSON.stringify({ chat, text, sender: session.member });
  const headers = { "Content-Type": "application/json", "Idempotency-Key": idempotencyKey };
  return decodeSendAnswer(await call(session, "/api/send", { method: "POST", headers, body }));
}

export async function markRead(session: Session, chat: string, cursor: number): Promise<ReadState> {
  const body = JSON.stringify({ chat, member: session.member, cursor });
  const headers = { "Content-Type": "application/json" };
  return decodeReadState(await call(session, "/api/read", { method: "POST", headers, body }));
}
