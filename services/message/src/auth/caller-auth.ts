import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { errors, jwtVerify, type JWTVerifyGetKey } from "jose";
import { Counter, type Registry } from "prom-client";
import { parseServiceKeys, ReloadingFile, sameServiceKeys, serviceCredential, type Logger, type ServiceKey } from "@chat/runtime";
import type { CallerAuthConfig } from "./config.js";
import { VerifiedTokens } from "./verified-tokens.js";

/**
 * Checks that a call comes from the edge: its `authorization: Bearer <assertion>` header holds
 * a JWT the edge signed with one of the accepted keys (HS256, iss "chat-edge", aud
 * "chat-message", at most a minute or two old). Verified assertions are remembered until they
 * expire, so almost every call costs a map lookup.
 */
export interface CallerAuthenticator {
  /** Resolves when the header is acceptable, rejects with Unauthenticated otherwise; undefined: acceptable, decided at once. */
  check(authorization: string | null): Promise<void> | undefined;
}

// Pod clocks agree within a few seconds; the edge's assertions live a minute.
const clockToleranceSeconds = 10;
// Longest an assertion is honoured after its iat, whatever its exp says.
const maxAgeSeconds = 2 * serviceCredential.lifetimeSeconds;
const bearer = /^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)$/;

type Reason = "missing" | "malformed" | "unknown_key" | "bad_signature" | "expired" | "claims" | "algorithm";

const explanations: Record<Reason, string> = {
  missing: "this call needs the edge's credential (authorization: Bearer <assertion>)",
  malformed: "the caller's credential is not a Bearer JWT",
  unknown_key: "the caller's credential names no key this service accepts",
  bad_signature: "the caller's credential has an invalid signature",
  expired: "the caller's credential has expired",
  claims: "the caller's credential is not meant for this service (iss, aud or iat)",
  algorithm: "the caller's credential is not signed with HS256",
};

class UnknownKey extends Error {}

function reasonOf(error: unknown): Reason {
  if (error instanceof UnknownKey) return "unknown_key";
  if (error instanceof errors.JWTExpired) return "expired";
  if (error instanceof errors.JWTClaimValidationFailed) return "claims";
  if (error instanceof errors.JWSSignatureVerificationFailed) return "bad_signature";
  if (error instanceof errors.JOSEAlgNotAllowed || error instanceof errors.JOSENotSupported) return "algorithm";
  return "malformed";
}

interface KeySet {
  readonly current: readonly ServiceKey[];
  refresh(now: number): Promise<void> | undefined;
}

export interface CallerAuthDeps {
  readonly logger: Logger;
  readonly registry: Registry;
  /** Milliseconds since the epoch; tests move it. */
  readonly now?: () => number;
}

function keySetOf(config: CallerAuthConfig, logger: Logger, onChange: () => void, now: () => number): KeySet {
  if (config.file === undefined) return { current: config.keys, refresh: () => undefined };
  return new ReloadingFile<readonly ServiceKey[]>({
    file: config.file,
    initial: config.keys,
    parse: (text) => parseServiceKeys(text, "SERVICE_AUTH_KEYS_FILE"),
    equal: sameServiceKeys,
    maxAgeMs: config.reloadMs,
    now,
    onChange: (keys) => {
      logger.info({ keyIds: keys.map((key) => key.id) }, "caller authentication keys reloaded");
      onChange();
    },
    onError: (error) => logger.error({ err: error }, "caller authentication keys could not be reloaded; keeping the previous ones"),
  });
}

function countersOf(registry: Registry) {
  return {
    accepted: new Counter({
      name: "caller_credentials_verified_total",
      help: "Caller assertions the message service verified (first use of each), by the kid of the key that signed them.",
      labelNames: ["key_id"],
      registers: [registry],
    }),
    refused: new Counter({
      name: "caller_credentials_refused_total",
      help: "Calls the message service refused as not coming from the edge, by reason.",
      labelNames: ["reason"],
      registers: [registry],
    }),
  };
}

const verifyOptions = {
  algorithms: [serviceCredential.algorithm],
  issuer: serviceCredential.issuer,
  audience: serviceCredential.audience,
  requiredClaims: ["iat", "exp"],
  maxTokenAge: maxAgeSeconds,
  clockTolerance: clockToleranceSeconds,
};

export function createCallerAuthenticator(config: CallerAuthConfig, { logger, registry, now = Date.now }: CallerAuthDeps): CallerAuthenticator {
  const verified = new VerifiedTokens({ now });
  const keys = keySetOf(config, logger, () => verified.clear(), now);
  const counters = countersOf(registry);
  // No cause attached: a refusal is the caller's doing, not an error of this service to log.
  const refuse = (reason: Reason) => {
    counters.refused.inc({ reason });
    return Promise.reject(new ConnectError(explanations[reason], Code.Unauthenticated));
  };
  const keyFor: JWTVerifyGetKey = (header) => {
    const key = keys.current.find((candidate) => candidate.id === header.kid);
    if (key === undefined) throw new UnknownKey();
    return key.secret;
  };

  const verify = async (authorization: string, token: string): Promise<void> => {
    let result;
    try {
      result = await jwtVerify(token, keyFor, { ...verifyOptions, currentDate: new Date(now()) });
    } catch (error) {
      return refuse(reasonOf(error));
    }
    const { exp, iat } = result.payload as { exp: number; iat: number };
    // The clock tolerance is for an iat a little ahead of this clock; expiry is kept to the second.
    const expiresAt = Math.min(exp, iat + maxAgeSeconds) * 1000;
    if (expiresAt <= now()) return refuse("expired");
    verified.add(authorization, expiresAt);
    counters.accepted.inc({ key_id: result.protectedHeader.kid ?? "" });
  };

  return {
    check(authorization) {
      // One clock read per call: reading the clock costs about as much as the lookup.
      const time = now();
      void keys.refresh(time);
      if (authorization === null) return config.mode === "optional" ? undefined : refuse("missing");
      if (verified.has(authorization, time)) return undefined;
      const token = bearer.exec(authorization)?.[1];
      return token === undefined ? refuse("malformed") : verify(authorization, token);
    },
  };
}

/** Refuses, with Unauthenticated, every call that does not carry the edge's valid credential. */
export function authenticateCallers(authenticator: CallerAuthenticator): Interceptor {
  return (next) => (request) => {
    const checked = authenticator.check(request.header.get("authorization"));
    return checked === undefined ? next(request) : checked.then(() => next(request));
  };
}
