import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError } from "@chat/runtime";
import { describe, expect, it } from "vitest";
import { loadAuthConfig } from "./config.js";

const secret = "s".repeat(32);
const jwt = { AUTH_MODE: "jwt", AUTH_ISSUER: "https://issuer.test", AUTH_AUDIENCE: "chat-api" };

function configError(env: NodeJS.ProcessEnv): string {
  try {
    loadAuthConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.message;
    throw error;
  }
  throw new Error("expected a ConfigError");
}

describe("loadAuthConfig", () => {
  it("is off unless AUTH_MODE=jwt", () => {
    expect(loadAuthConfig({})).toEqual({ mode: "none" });
    expect(loadAuthConfig({ AUTH_MODE: "none", AUTH_JWT_SECRET: secret })).toEqual({ mode: "none" });
  });

  it("reads a shared secret, with HS256 and 30 s of clock skew by default", () => {
    const config = loadAuthConfig({ ...jwt, AUTH_JWT_SECRET: secret, AUTH_AUDIENCE: "a, b" });
    expect(config).toMatchObject({ mode: "jwt", algorithms: ["HS256"], audience: ["a", "b"], clockSkewSeconds: 30 });
  });

  it("reads the longest accepted token lifetime, 0 (no limit) by default", () => {
    expect(loadAuthConfig({ ...jwt, AUTH_JWT_SECRET: secret })).toMatchObject({ maxTokenLifetimeSeconds: 0 });
    expect(loadAuthConfig({ ...jwt, AUTH_JWT_SECRET: secret, AUTH_MAX_TOKEN_LIFETIME_SECONDS: "3600" })).toMatchObject({ maxTokenLifetimeSeconds: 3600 });
  });

  it("reads the secret from a file, without its trailing newline", () => {
    const file = join(mkdtempSync(join(tmpdir(), "auth-")), "secret");
    writeFileSync(file, `${secret}\n`);
    const config = loadAuthConfig({ ...jwt, AUTH_JWT_SECRET_FILE: file });
    expect(config.mode === "jwt" && config.keys.kind === "secret" && new TextDecoder().decode(config.keys.secret)).toBe(secret);
  });

  it("takes a JWKS URL with RS256 and ES256 by default", () => {
    const config = loadAuthConfig({ ...jwt, AUTH_JWKS_URL: "https://idp.test/.well-known/jwks.json" });
    expect(config).toMatchObject({ mode: "jwt", algorithms: ["RS256", "ES256"], keys: { kind: "jwks" } });
  });

  it.each([
    [{ AUTH_MODE: "jwt" }, "AUTH_ISSUER: required"],
    [{ ...jwt, AUTH_AUDIENCE: "" }, "AUTH_AUDIENCE: required"],
    [jwt, "exactly one of AUTH_JWT_SECRET"],
    [{ ...jwt, AUTH_JWT_SECRET: secret, AUTH_JWKS_URL: "https://idp.test/jwks" }, "exactly one of"],
    [{ ...jwt, AUTH_JWT_SECRET: "short" }, "at least 32 bytes"],
    [{ ...jwt, AUTH_JWT_SECRET: secret, AUTH_JWT_SECRET_FILE: "/x" }, "not both"],
    [{ ...jwt, AUTH_JWT_SECRET_FILE: "/nonexistent/secret" }, "cannot be read (ENOENT)"],
    [{ ...jwt, AUTH_JWKS_URL: "ftp://idp.test/jwks" }, "https://"],
    [{ ...jwt, AUTH_JWT_SECRET: secret, AUTH_ALGORITHMS: "RS256" }, "with a shared secret use some of HS256"],
    [{ ...jwt, AUTH_JWKS_URL: "https://idp.test/jwks", AUTH_ALGORITHMS: "HS256" }, "with a JWKS use some of RS256"],
    [{ ...jwt, AUTH_JWT_SECRET: secret, AUTH_ALGORITHMS: "none" }, "HS256"],
    [{ AUTH_MODE: "basic" }, "AUTH_MODE"],
    [{ ...jwt, AUTH_JWT_SECRET: secret, AUTH_MAX_TOKEN_LIFETIME_SECONDS: "-1" }, "AUTH_MAX_TOKEN_LIFETIME_SECONDS"],
  ])("refuses %j", (env, message) => {
    expect(configError(env)).toContain(message);
  });

  it("never prints the secret in an error", () => {
    const env = { ...jwt, AUTH_JWT_SECRET: "too-short-but-secret" };
    expect(configError(env)).not.toContain("too-short-but-secret");
  });
});
