import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError } from "@chat/runtime";
import { describe, expect, it } from "vitest";
import { loadCallerAuthConfig } from "./config.js";

const entry = (id: string) => `${id}=${randomBytes(32).toString("base64url")}`;

function configError(env: NodeJS.ProcessEnv): string {
  try {
    loadCallerAuthConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.message;
    throw error;
  }
  throw new Error("expected a ConfigError");
}

describe("loadCallerAuthConfig", () => {
  it("is off without keys", () => {
    expect(loadCallerAuthConfig({})).toBeUndefined();
  });

  it("requires the caller's credential once keys are set", () => {
    const config = loadCallerAuthConfig({ SERVICE_AUTH_KEYS: `${entry("new")},${entry("old")}` });
    expect(config).toMatchObject({ mode: "required", file: undefined });
    expect(config?.keys.map((key) => key.id)).toEqual(["new", "old"]);
  });

  it("reads the keys from a file, to be re-read every SERVICE_AUTH_KEYS_RELOAD_SECONDS", () => {
    const dir = mkdtempSync(join(tmpdir(), "service-auth-"));
    try {
      const file = join(dir, "keys");
      writeFileSync(file, `${entry("a")}\n${entry("b")}\n`);
      const config = loadCallerAuthConfig({ SERVICE_AUTH_KEYS_FILE: file, SERVICE_AUTH_KEYS_RELOAD_SECONDS: "30", SERVICE_AUTH_MODE: "optional" });
      expect(config).toMatchObject({ file, reloadMs: 30_000, mode: "optional" });
      expect(config?.keys.map((key) => key.id)).toEqual(["a", "b"]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.each([
    [{ SERVICE_AUTH_MODE: "required" }, "SERVICE_AUTH_MODE=required: needs SERVICE_AUTH_KEYS"],
    [{ SERVICE_AUTH_KEYS: entry("a"), SERVICE_AUTH_MODE: "off" }, "SERVICE_AUTH_MODE=\"off\": must be one of required, optional"],
    [{ SERVICE_AUTH_KEYS: `a=${randomBytes(16).toString("base64url")}` }, "SERVICE_AUTH_KEYS: key \"a\": the secret must be at least 32 random bytes"],
    [{ SERVICE_AUTH_KEYS: "a=" }, "SERVICE_AUTH_KEYS: key \"a\": the secret is not base64url"],
    [{ SERVICE_AUTH_KEYS: entry("a"), SERVICE_AUTH_KEYS_FILE: "/nowhere" }, "set either SERVICE_AUTH_KEYS or SERVICE_AUTH_KEYS_FILE, not both"],
    [{ SERVICE_AUTH_KEYS_FILE: "/nowhere/keys" }, "SERVICE_AUTH_KEYS_FILE=\"/nowhere/keys\": cannot be read (ENOENT)"],
  ])("refuses %j", (env, message) => {
    expect(configError(env)).toContain(message);
  });
});
