// Who is signed in, kept in sessionStorage so a reload keeps the tab signed in (and a new
// tab starts signed out).
import { isMemberId } from "./chat-id.js";

/** The signed-in member, and the bearer token when the edge wants one. */
export interface Session {
  member: string;
  token: string | null;
}

const storageKey = "chat.session";

export function loadSession(storage: Storage): Session | null {
  const saved = storage.getItem(storageKey);
  if (saved === null) return null;
  try {
    const value: unknown = JSON.parse(saved);
    if (typeof value !== "object" || value === null) return null;
    const member: unknown = Reflect.get(value, "member");
    const token: unknown = Reflect.get(value, "token");
    if (typeof member !== "string" || !isMemberId(member)) return null;
    return { member, token: typeof token === "string" ? token : null };
  } catch {
    return null;
  }
}

export function saveSession(storage: Storage, session: Session): void {
  storage.setItem(storageKey, JSON.stringify(session));
}

export function clearSession(storage: Storage): void {
  storage.removeItem(storageKey);
}

/** The answer of a sign-in attempt: a session, or what is wrong with the input. */
export type SignInResult = { session: Session } | { problem: string };

export function signInWithId(input: string): SignInResult {
  const member = input.trim();
  if (!isMemberId(member)) {
    return { problem: "Enter an id of 1 to 64 characters, without spaces or \":\"." };
  }
  return { session: { member, token: null } };
}

/**
 * The token's `sub` claim names the member. The page does not verify the signature: the
 * server does, on every request.
 */
export function signInWithToken(input: string): SignInResult {
  const token = input.trim();
  const sub = tokenSubject(token);
  if (sub === undefined) return { problem: "That is not a token this service issues: paste the whole JWT." };
  if (!isMemberId(sub)) return { problem: "The token's subject is not a valid member id." };
  return { session: { member: sub, token } };
}

function tokenSubject(token: string): string | undefined {
  const payload = token.split(".")[1];
  if (payload === undefined || token.split(".").length !== 3) return undefined;
  try {
    const base64 = payload.replace(/-/g, "+").replace(/_/g, "/");
    const binary = atob(base64.padEnd(Math.ceil(base64.length / 4) * 4, "="));
    const bytes = Uint8Array.from(binary, (char) => char.charCodeAt(0));
    const claims: unknown = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
    if (typeof claims !== "object" || claims === null) return undefined;
    const sub: unknown = Reflect.get(claims, "sub");
    return typeof sub === "string" ? sub : undefined;
  } catch {
    return undefined;
  }
}
