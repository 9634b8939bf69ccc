import { createRemoteJWKSet, errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from "jose";
import type { JwtSettings } from "./config.js";

/** The token is not acceptable; the message says why, fit for `error_description`. */
export class TokenRejected extends Error {
  override name = "TokenRejected";
}

/** The keys to check the token against could not be fetched: our fault, not the client's. */
export class KeysUnavailable extends Error {
  override name = "KeysUnavailable";
}

/** Verifies a bearer token and resolves to its subject, the user it speaks for. */
export type TokenVerifier = (token: string) => Promise<string>;

const reasons: Record<string, string> = {
  [errors.JWTExpired.code]: "the token has expired",
  [errors.JWSSignatureVerificationFailed.code]: "the token's signature is invalid",
  [errors.JOSEAlgNotAllowed.code]: "the token's signing algorithm is not accepted",
  [errors.JOSENotSupported.code]: "the token uses an unsupported algorithm or header",
  [errors.JWKSNoMatchingKey.code]: "the token is signed with an unknown key",
  [errors.JWKSMultipleMatchingKeys.code]: "the token does not say which key signed it",
  [errors.JWSInvalid.code]: "the token is malformed",
  [errors.JWTInvalid.code]: "the token is malformed",
};

function claimReason(error: errors.JWTClaimValidationFailed): string {
  if (error.claim === "nbf") return "the token is not valid yet";
  if (error.claim === "iat") return "the token's issue time is in the future";
  if (error.reason === "missing") return `the token has no '${error.claim}' claim`;
  return `the token's '${error.claim}' claim is not accepted`;
}

function rejection(error: unknown): Error {
  if (error instanceof errors.JWTClaimValidationFailed) return new TokenRejected(claimReason(error), { cause: error });
  const reason = error instanceof errors.JOSEError ? reasons[error.code] : undefined;
  if (reason !== undefined) return new TokenRejected(reason, { cause: error });
  // A JWKS that cannot be fetched or parsed, a timeout, a network error.
  return new KeysUnavailable("the token signing keys could not be loaded", { cause: error });
}

// Subjects become member ids and a request header: Unicode that round-trips exactly.
const loneSurrogate = /\p{Cs}/u;
const maxSubjectLength = 1024;

/**
 * Refuses a token that lives longer than `maxSeconds` (0: no limit): one that leaks stays
 * usable only that long. Without `iat`, what is left of its life must fit; the clock skew
 * allows for an issuer whose clock runs ahead.
 */
function checkLifetime(payload: { exp?: number; iat?: number }, maxSeconds: number, skewSeconds: number): void {
  if (maxSeconds === 0 || payload.exp === undefined) return;
  const iat = payload.iat;
  const lifetime = iat === undefined ? payload.exp - Math.floor(Date.now() / 1000) : payload.exp - iat;
  const allowed = iat === undefined ? maxSeconds + skewSeconds : maxSeconds;
  if (lifetime > allowed) {
    const measured = iat === undefined ? "remaining lifetime (exp - now)" : "lifetime (exp - iat)";
    throw new TokenRejected(`the token's ${measured} of ${lifetime} s is longer than the ${maxSeconds} s this API accepts`);
  }
}

function subjectOf(payload: { sub?: unknown }): string {
  const sub = payload.sub;
  if (typeof sub !== "string" || sub === "" || sub.length > maxSubjectLength || loneSurrogate.test(sub)) {
    throw new TokenRejected("the token's 'sub' claim is not a usable user id");
  }
  return sub;
}

/**
 * A verifier for the configured keys. A JWKS is fetched on first use, cached for 10 minutes,
 * and fetched again (at most every 30 s) when a token names a key it does not hold, so keys
 * rotate without a restart.
 */
export function createTokenVerifier(settings: JwtSettings, { jwksCooldownMs = 30_000 } = {}): TokenVerifier {
  const key: Uint8Array | JWTVerifyGetKey =
    settings.keys.kind === "secret"
      ? settings.keys.secret
      : createRemoteJWKSet(settings.keys.url, {
          timeoutDuration: 3_000,
          cooldownDuration: jwksCooldownMs,
          cacheMaxAge: 600_000,
        });
  const options = {
    algorithms: [...settings.algorithms],
    issuer: settings.issuer,
    audience: [...settings.audience],
    clockTolerance: settings.clockSkewSeconds,
    requiredClaims: ["sub", "exp"],
  };
  return async (token) => {
    let payload: JWTPayload;
    try {
      // Two overloads (key or key resolver); both take the same options.
      payload = (typeof key === "function" ? await jwtVerify(token, key, options) : await jwtVerify(token, key, options)).payload;
    } catch (error) {
      throw rejection(error);
    }
    checkLifetime(payload, settings.maxTokenLifetimeSeconds, settings.clockSkewSeconds);
    return subjectOf(payload);
  };
}
