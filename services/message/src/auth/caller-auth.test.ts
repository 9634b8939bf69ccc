import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Code, ConnectError } from "@connectrpc/connect";
import { SignJWT, type JWTPayload } from "jose";
import { pino } from "pino";
import { Registry } from "prom-client";
import { describe, expect, it, vi } from "vitest";
import { parseServiceKeys, type ServiceKey } from "@chat/runtime";
import { createCallerAuthenticator, type CallerAuthenticator } from "./caller-auth.js";
import type { CallerAuthConfig } from "./config.js";

const keyText = (id: string) => `${id}=${randomBytes(32).toString("base64url")}`;
const key = (name: string): ServiceKey => parseServiceKeys(keyText(name), "K")[0]!;
// The stranger has the current key's id, but a secret of its own.
const [current, previous, stranger] = [key("current"), key("previous"), key("current")];
const start = Date.UTC(2026, 0, 1);

interface Clock {
  ms: number;
}

/** An assertion as the edge makes it, issued at the clock's time, with `claims` and `header` changed. */
function assertion(clock: Clock, key: ServiceKey, claims: JWTPayload = {}, header: { alg?: string; kid?: string | undefined } = {}): Promise<string> {
  const iat = Math.floor(clock.ms / 1000);
  const protectedHeader = { alg: "HS256", kid: key.id, ...header };
  const secret = protectedHeader.alg === "HS512" ? new Uint8Array([...key.secret, ...key.secret]) : key.secret;
  return new SignJWT({ iss: "chat-edge", aud: "chat-message", iat, exp: iat + 60, ...claims })
    .setProtectedHeader(protectedHeader as { alg: string })
    .sign(secret)
    .then((token) => `Bearer ${token}`);
}

function authenticator(clock: Clock, overrides: Partial<CallerAuthConfig> = {}) {
  const registry = new Registry();
  const config: CallerAuthConfig = { keys: [current, previous], file: undefined, reloadMs: 10_000, mode: "required", ...overrides };
  const auth = createCallerAuthenticator(config, { logger: pino({ level: "silent" }), registry, now: () => clock.ms });
  return { auth, registry };
}

/** The code and message a check ends with: undefined when the call is let through. */
async function outcome(auth: CallerAuthenticator, header: string | null): Promise<{ code: Code; message: string } | undefined> {
  try {
    await auth.check(header);
    return undefined;
  } catch (error) {
    const { code, rawMessage } = ConnectError.from(error);
    return { code, message: rawMessage };
  }
}

describe("caller authentication", () => {
  it("lets through an assertion signed with any accepted key, then answers from the cache without verifying again", async () => {
    const clock = { ms: start };
    const { auth, registry } = authenticator(clock);
    const header = await assertion(clock, current);
    const first = auth.check(header);
    expect(first).toBeInstanceOf(Promise);
    await first;
    expect(auth.check(header)).toBeUndefined();
    expect(await outcome(auth, await assertion(clock, previous))).toBeUndefined();
    const verified = await registry.getSingleMetric("caller_credentials_verified_total")!.get();
    expect(verified.values.map((value) => [value.labels.key_id, value.value]).sort()).toEqual([["current", 1], ["previous", 1]]);
  });

  it.each<[string, (clock: Clock) => Promise<string | null>, RegExp]>([
    ["no credential", async () => null, /needs the edge's credential/],
    ["a Basic credential", async () => "Basic ZWRnZTpwdw==", /not a Bearer JWT/],
    ["a bearer token that is no JWT", async () => "Bearer abc", /not a Bearer JWT/],
    ["an unknown kid", (clock) => assertion(clock, current, {}, { kid: "retired" }), /names no key/],
    ["no kid", (clock) => assertion(clock, current, {}, { kid: undefined }), /names no key/],
    ["a known kid signed with another secret", (clock) => assertion(clock, stranger), /invalid signature/],
    ["an assertion expired long ago", (clock) => assertion(clock, current, { exp: Math.floor(clock.ms / 1000) - 3600 }), /expired/],
    ["an assertion expired a second ago", (clock) => assertion(clock, current, { exp: Math.floor(clock.ms / 1000) - 1 }), /expired/],
    ["an assertion for another audience", (clock) => assertion(clock, current, { aud: "chat-edge" }), /not meant for this service/],
    ["an assertion from another issuer", (clock) => assertion(clock, current, { iss: "someone" }), /not meant for this service/],
    ["an assertion issued in the future", (clock) => assertion(clock, current, { iat: Math.floor(clock.ms / 1000) + 60 }), /not meant for this service/],
    ["an old assertion with a far exp", (clock) => assertion(clock, current, { iat: Math.floor(clock.ms / 1000) - 200, exp: Math.floor(clock.ms / 1000) + 3600 }), /expired/],
    ["an assertion without exp", (clock) => assertion(clock, current, { exp: undefined }), /not meant for this service/],
    ["an HS512 assertion", (clock) => assertion(clock, current, {}, { alg: "HS512" }), /not signed with HS256/],
    [
      "a tampered assertion (another payload, the signature kept)",
      async (clock) => {
        const [head, , signature] = (await assertion(clock, current)).split(".");
        const payload = Buffer.from(JSON.stringify({ iss: "chat-edge", aud: "chat-message", iat: Math.floor(clock.ms / 1000), exp: Math.floor(clock.ms / 1000) + 3600 })).toString("base64url");
        return `${head}.${payload}.${signature}`;
      },
      /invalid signature/,
    ],
  ])("refuses %s as Unauthenticated", async (_name, make, message) => {
    const clock = { ms: start };
    const { auth, registry } = authenticator(clock);
    const header = await make(clock);
    expect(await outcome(auth, header)).toEqual({ code: Code.Unauthenticated, message: expect.stringMatching(message) });
    // Refused twice: a refusal is never remembered as a success.
    expect(await outcome(auth, header)).toMatchObject({ code: Code.Unauthenticated });
    const refused = await registry.getSingleMetric("caller_credentials_refused_total")!.get();
    expect(refused.values.reduce((sum, value) => sum + value.value, 0)).toBe(2);
  });

  it("refuses a tampered copy of a remembered assertion (same signature, another payload)", async () => {
    const clock = { ms: start };
    const { auth } = authenticator(clock);
    const header = await assertion(clock, current);
    await auth.check(header);
    const [head, , signature] = header.split(".");
    const payload = Buffer.from(JSON.stringify({ iss: "chat-edge", aud: "chat-message", iat: start / 1000, exp: start / 1000 + 3600 })).toString("base64url");
    expect(await outcome(auth, `${head}.${payload}.${signature}`)).toMatchObject({ code: Code.Unauthenticated, message: expect.stringMatching(/invalid signature/) });
    expect(auth.check(header)).toBeUndefined();
  });

  it("stops accepting a remembered assertion at its expiry", async () => {
    const clock = { ms: start };
    const { auth } = authenticator(clock);
    const header = await assertion(clock, current);
    await auth.check(header);
    clock.ms += 59_000;
    expect(auth.check(header)).toBeUndefined();
    clock.ms += 1_000;
    expect(await outcome(auth, header)).toMatchObject({ code: Code.Unauthenticated });
  });

  it("in optional mode lets calls without a credential through, and still refuses bad ones", async () => {
    const clock = { ms: start };
    const { auth } = authenticator(clock, { mode: "optional" });
    expect(auth.check(null)).toBeUndefined();
    expect(await outcome(auth, await assertion(clock, stranger))).toMatchObject({ code: Code.Unauthenticated });
  });

  it("re-reads the key file, and forgets assertions of a retired key at once", async () => {
    const dir = mkdtempSync(join(tmpdir(), "caller-auth-"));
    try {
      const file = join(dir, "keys");
      const encode = (key: ServiceKey) => `${key.id}=${Buffer.from(key.secret).toString("base64url")}`;
      writeFileSync(file, `${encode(current)}\n${encode(previous)}\n`);
      const clock = { ms: start };
      const { auth } = authenticator(clock, { file, reloadMs: 10_000 });
      const old = await assertion(clock, previous);
      await auth.check(old);
      writeFileSync(file, `${encode(current)}\n`);
      clock.ms += 10_000;
      // The first call after reloadMs starts the re-read; the calls after it see its result.
      expect(auth.check(old)).toBeUndefined();
      await vi.waitFor(async () => expect(await outcome(auth, old)).toEqual({ code: Code.Unauthenticated, message: expect.stringMatching(/names no key/) }));
      expect(await outcome(auth, await assertion(clock, current))).toBeUndefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
