import { z } from "zod";
import { ConfigError, envVar, parseServiceKeys, readEnv, readSecret, type ServiceKey } from "@chat/runtime";

/**
 * How the message service authenticates its caller: the edge signs every call with a
 * short-lived HS256 assertion, made with one of `keys`.
 */
export interface CallerAuthConfig {
  /** The keys assertions may be signed with, by kid: the current one and, while rotating, the previous. */
  readonly keys: readonly ServiceKey[];
  /** The file the keys came from, re-read every `reloadMs` so keys rotate without a restart. */
  readonly file: string | undefined;
  readonly reloadMs: number;
  /** "required": a call without an assertion is refused. "optional": accepted (while a release upgrades). */
  readonly mode: "required" | "optional";
}

export const callerAuthEnvShape = {
  SERVICE_AUTH_KEYS: envVar
    .optionalText()
    .describe("keys the edge's call assertions may be signed with, kid=base64url-secret entries (32+ bytes each); setting them turns caller authentication on"),
  SERVICE_AUTH_KEYS_FILE: envVar.optionalText().describe("file holding SERVICE_AUTH_KEYS (a mounted Secret), re-read while running"),
  SERVICE_AUTH_KEYS_RELOAD_SECONDS: envVar.integer(10, 1, 3_600).describe("how often SERVICE_AUTH_KEYS_FILE is re-read"),
  SERVICE_AUTH_MODE: z
    .preprocess((value) => (value === "" ? undefined : value), z.enum(["required", "optional"], { error: "must be one of required, optional" }).optional())
    .describe("required (the default with keys): refuse calls without the edge's assertion; optional: accept them, refuse bad ones (only while upgrading)"),
};

/** Caller authentication settings; undefined when no keys are set (authentication off). */
export function loadCallerAuthConfig(env: NodeJS.ProcessEnv = process.env): CallerAuthConfig | undefined {
  const vars = readEnv(callerAuthEnvShape, env);
  const text = readSecret("SERVICE_AUTH_KEYS", vars.SERVICE_AUTH_KEYS, vars.SERVICE_AUTH_KEYS_FILE);
  if (text === undefined) {
    if (vars.SERVICE_AUTH_MODE !== undefined) {
      throw new ConfigError(`invalid configuration:\n  SERVICE_AUTH_MODE=${vars.SERVICE_AUTH_MODE}: needs SERVICE_AUTH_KEYS or SERVICE_AUTH_KEYS_FILE`);
    }
    return undefined;
  }
  const variable = vars.SERVICE_AUTH_KEYS_FILE === undefined ? "SERVICE_AUTH_KEYS" : `SERVICE_AUTH_KEYS_FILE=${JSON.stringify(vars.SERVICE_AUTH_KEYS_FILE)}`;
  return {
    keys: parseServiceKeys(text, variable),
    file: vars.SERVICE_AUTH_KEYS_FILE,
    reloadMs: vars.SERVICE_AUTH_KEYS_RELOAD_SECONDS * 1000,
    mode: vars.SERVICE_AUTH_MODE ?? "required",
  };
}
