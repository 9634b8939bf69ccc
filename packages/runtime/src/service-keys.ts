import { ConfigError } from "./env.js";

/**
 * The signed assertion the edge attaches to every call to the message service, and the keys
 * that sign it. Both services read keys in one format: `kid=secret`, the secret base64url
 * (RFC 4648 §5) of at least 32 random bytes; a set separates its entries by newlines, commas
 * or spaces.
 */
export const serviceCredential = {
  issuer: "chat-edge",
  audience: "chat-message",
  algorithm: "HS256",
  /** Seconds an assertion is valid; the edge mints a new one after half of that. */
  lifetimeSeconds: 60,
} as const;

/** One shared HMAC key, named by the `kid` of the assertions it signs. */
export interface ServiceKey {
  readonly id: string;
  readonly secret: Uint8Array;
}

// RFC 7518 §3.2: an HS256 key at least as long as the hash output.
const minimumKeyBytes = 32;
// 32 random bytes hold about 30 distinct values; fewer than 16 means a pattern, not randomness.
const minimumDistinctBytes = 16;
const keyIdPattern = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const base64urlPattern = /^[A-Za-z0-9_-]+={0,2}$/;

function invalid(variable: string, problem: string): ConfigError {
  return new ConfigError(`invalid configuration:\n  ${variable}: ${problem}`);
}

function parseEntry(entry: string, variable: string): ServiceKey {
  const separator = entry.indexOf("=");
  const id = separator < 0 ? "" : entry.slice(0, separator);
  const encoded = separator < 0 ? "" : entry.slice(separator + 1);
  // Never quote the entry: it holds the secret.
  if (!keyIdPattern.test(id)) {
    throw invalid(variable, "each key must be kid=secret, the kid 1 to 64 letters, digits, '.', '_' or '-' (e.g. 2026-01=...)");
  }
  if (/[+/]/.test(encoded)) throw invalid(variable, `key "${id}": encode the secret as base64url ('-' and '_' instead of '+' and '/')`);
  if (!base64urlPattern.test(encoded)) throw invalid(variable, `key "${id}": the secret is not base64url`);
  const secret = new Uint8Array(Buffer.from(encoded, "base64url"));
  if (secret.length < minimumKeyBytes) {
    throw invalid(variable, `key "${id}": the secret must be at least ${minimumKeyBytes} random bytes (it has ${secret.length}); make one with: openssl rand -base64 32 | tr '+/' '-_' | tr -d '='`);
  }
  if (new Set(secret).size < minimumDistinctBytes) {
    throw invalid(variable, `key "${id}": the secret is a repeating pattern, not random bytes`);
  }
  return { id, secret };
}

/** The keys of a set (`kid=secret` entries); throws ConfigError naming `variable` on a malformed, weak or duplicate key. */
export function parseServiceKeys(text: string, variable: string): ServiceKey[] {
  const entries = text.split(/[\s,]+/).filter((entry) => entry !== "");
  if (entries.length === 0) throw invalid(variable, "holds no key; give kid=secret entries");
  const keys = entries.map((entry) => parseEntry(entry, variable));
  const ids = keys.map((key) => key.id);
  const repeated = ids.find((id, index) => ids.indexOf(id) !== index);
  if (repeated !== undefined) throw invalid(variable, `key "${repeated}" is given twice; each kid names one key`);
  return keys;
}

/** The one key of `text` (a single `kid=secret`); throws ConfigError otherwise. */
export function parseServiceKey(text: string, variable: string): ServiceKey {
  const keys = parseServiceKeys(text, variable);
  if (keys.length !== 1) throw invalid(variable, `holds ${keys.length} keys; give the one kid=secret to sign with`);
  return keys[0]!;
}

/** Whether two key lists hold the same keys in the same order. */
export function sameServiceKeys(a: readonly ServiceKey[], b: readonly ServiceKey[]): boolean {
  return a.length === b.length && a.every((key, index) => key.id === b[index]!.id && Buffer.compare(key.secret, b[index]!.secret) === 0);
}
