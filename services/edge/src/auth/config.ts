import { ConfigError, envVar, readEnv, readSecret } from "@chat/runtime";

const hmacAlgorithms = ["HS256", "HS384", "HS512"] as const;
const keyPairAlgorithms = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"] as const;

/** Where the keys that sign tokens come from. */
export type TokenKeys =
  | { readonly kind: "secret"; readonly secret: Uint8Array }
  | { readonly kind: "jwks"; readonly url: URL };

export interface JwtSettings {
  readonly keys: TokenKeys;
  /** Accepted "alg" values; a token signed otherwise is refused. */
  readonly algorithms: readonly string[];
  /** Required "iss". */
  readonly issuer: string;
  /** Accepted "aud" values; a token must name at least one. */
  readonly audience: readonly string[];
  /** Leeway for exp and nbf, for clocks that disagree a little. */
  readonly clockSkewSeconds: number;
  /** Longest lifetime a token may have (exp - iat; exp - now without iat); 0 = no limit. */
  readonly maxTokenLifetimeSeconds: number;
}

/** "none": every request is anonymous (development, the seed API). "jwt": bearer tokens. */
export type AuthConfig = { readonly mode: "none" } | ({ readonly mode: "jwt" } & JwtSettings);

export const authEnvShape = {
  AUTH_MODE: envVar
    .oneOf(["none", "jwt"], "none")
    .describe("`jwt`: send and pull need a bearer JWT (production); `none`: anyone may read any chat and send as anyone"),
  AUTH_JWT_SECRET: envVar
    .optionalText()
    .describe("HS256 shared secret, at least 32 bytes; with `jwt` set exactly one of it, AUTH_JWT_SECRET_FILE and AUTH_JWKS_URL"),
  AUTH_JWT_SECRET_FILE: envVar
    .optionalText()
    .describe("file holding the shared secret, e.g. a mounted Secret; read at startup"),
  AUTH_JWKS_URL: envVar
    .optionalText()
    .describe("`https://` URL of the issuer's JWKS, instead of a shared secret; keys are cached 10 minutes"),
  AUTH_ISSUER: envVar.optionalText().describe("the `iss` every token must carry; required with `jwt`"),
  AUTH_AUDIENCE: envVar
    .optionalText()
    .describe("accepted `aud` values, comma-separated; a token must name one; required with `jwt`"),
  AUTH_ALGORITHMS: envVar
    .optionalText()
    .describe("accepted signing algorithms, comma-separated (unset: `HS256` with a secret, `RS256,ES256` with a JWKS)"),
  AUTH_CLOCK_SKEW_SECONDS: envVar.integer(30, 0, 300).describe("leeway for `exp` and `nbf`, in seconds"),
  AUTH_MAX_TOKEN_LIFETIME_SECONDS: envVar
    .integer(0, 0, 10 * 366 * 86_400)
    .describe("longest lifetime a token may have, exp - iat (exp - now for a token without iat); longer-lived tokens are refused; 0 = no limit"),
};

function invalid(line: string): ConfigError {
  return new ConfigError(`invalid configuration:\n  ${line}`);
}

function keysFrom(vars: { AUTH_JWT_SECRET?: string; AUTH_JWT_SECRET_FILE?: string; AUTH_JWKS_URL?: string }): TokenKeys {
  const secret = readSecret("AUTH_JWT_SECRET", vars.AUTH_JWT_SECRET, vars.AUTH_JWT_SECRET_FILE);
  if ((secret === undefined) === (vars.AUTH_JWKS_URL === undefined)) {
    throw invalid("AUTH_MODE=jwt needs exactly one of AUTH_JWT_SECRET (or AUTH_JWT_SECRET_FILE) and AUTH_JWKS_URL");
  }
  if (secret !== undefined) {
    const bytes = new TextEncoder().encode(secret);
    // RFC 7518 §3.2: an HMAC key at least as long as the hash output.
    if (bytes.length < 32) throw invalid("AUTH_JWT_SECRET: must be at least 32 bytes (256 bits)");
    return { kind: "secret", secret: bytes };
  }
  const url = vars.AUTH_JWKS_URL!;
  if (!URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol)) {
    throw invalid(`AUTH_JWKS_URL=${JSON.stringify(url)}: must be an https:// (or http://) URL`);
  }
  return { kind: "jwks", url: new URL(url) };
}

function algorithmsFrom(list: string | undefined, keys: TokenKeys): string[] {
  const allowed: readonly string[] = keys.kind === "secret" ? hmacAlgorithms : keyPairAlgorithms;
  if (list === undefined) return keys.kind === "secret" ? ["HS256"] : ["RS256", "ES256"];
  const algorithms = list.split(",").map((name) => name.trim()).filter((name) => name !== "");
  const wrong = algorithms.filter((name) => !allowed.includes(name));
  if (algorithms.length === 0 || wrong.length > 0) {
    throw invalid(
      `AUTH_ALGORITHMS=${JSON.stringify(list)}: with ${keys.kind === "secret" ? "a shared secret" : "a JWKS"} use some of ${allowed.join(", ")}`,
    );
  }
  return algorithms;
}

/** Reads the edge's authentication settings; throws ConfigError on a bad or missing value. */
export function loadAuthConfig(env: NodeJS.ProcessEnv = process.env): AuthConfig {
  const vars = readEnv(authEnvShape, env);
  if (vars.AUTH_MODE === "none") return { mode: "none" };
  if (vars.AUTH_ISSUER === undefined) throw invalid("AUTH_ISSUER: required with AUTH_MODE=jwt (the iss tokens must carry)");
  if (vars.AUTH_AUDIENCE === undefined) throw invalid("AUTH_AUDIENCE: required with AUTH_MODE=jwt (the aud tokens must carry)");
  const keys = keysFrom(vars);
  return {
    mode: "jwt",
    keys,
    algorithms: algorithmsFrom(vars.AUTH_ALGORITHMS, keys),
    issuer: vars.AUTH_ISSUER,
    audience: vars.AUTH_AUDIENCE.split(",").map((name) => name.trim()).filter((name) => name !== ""),
    clockSkewSeconds: vars.AUTH_CLOCK_SKEW_SECONDS,
    maxTokenLifetimeSeconds: vars.AUTH_MAX_TOKEN_LIFETIME_SECONDS,
  };
}
