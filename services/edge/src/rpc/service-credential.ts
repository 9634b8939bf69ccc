import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { SignJWT } from "jose";
import { parseServiceKey, ReloadingFile, sameServiceKeys, serviceCredential, type Logger, type ServiceKey } from "@chat/runtime";
import type { ServiceCredentialConfig } from "./credential-config.js";

/** Where the signing key comes from: fixed, or a file re-read when asked (see ReloadingFile). */
export interface SigningKey {
  readonly current: ServiceKey;
  refresh(): Promise<void> | undefined;
}

export interface ServiceCredentialOptions {
  /** Milliseconds since the epoch; tests move it. */
  readonly now?: () => number;
  /** Called when a background re-mint fails (the previous assertion is still valid). */
  readonly onError?: (error: unknown) => void;
}

interface Minted {
  readonly header: string;
  /** After this, a new assertion is minted in the background while this one is still sent. */
  readonly renewAt: number;
  /** From this on, a call waits for a new assertion. */
  readonly expiresAt: number;
}

// A call never carries an assertion within this long of its expiry: clocks differ, calls take time.
const expiryMarginMs = 5_000;

/**
 * The edge's proof to the message service that a call is its own: `authorization: Bearer
 * <JWT>`, HS256, iss "chat-edge", aud "chat-message", valid a minute. Signing costs more CPU
 * than a whole call, so one assertion serves every call until half its lifetime has passed;
 * then the next call triggers a new one (the signing key file is re-read then) and keeps the
 * old one meanwhile. Only the first call, or one after a long idle, waits for the signature.
 */
export class ServiceCredential {
  readonly #key: SigningKey;
  readonly #now: () => number;
  readonly #onError: (error: unknown) => void;
  #minted: Minted | undefined;
  #minting: Promise<string> | undefined;

  constructor(key: SigningKey, { now = Date.now, onError = () => {} }: ServiceCredentialOptions = {}) {
    this.#key = key;
    this.#now = now;
    this.#onError = onError;
  }

  /** The `authorization` header value for a call: at once while an assertion is fresh, else after minting one. */
  header(): string | Promise<string> {
    const minted = this.#minted;
    const now = this.#now();
    if (minted !== undefined && now < minted.renewAt) return minted.header;
    if (minted !== undefined && now < minted.expiresAt) {
      this.#mint().catch(this.#onError);
      return minted.header;
    }
    return this.#mint();
  }

  #mint(): Promise<string> {
    this.#minting ??= this.#sign().finally(() => (this.#minting = undefined));
    return this.#minting;
  }

  async #sign(): Promise<string> {
    await this.#key.refresh();
    const key = this.#key.current;
    const issuedAt = Math.floor(this.#now() / 1000);
    const lifetime = serviceCredential.lifetimeSeconds;
    const token = await new SignJWT({})
      .setProtectedHeader({ alg: serviceCredential.algorithm, typ: "JWT", kid: key.id })
      .setIssuer(serviceCredential.issuer)
      .setAudience(serviceCredential.audience)
      .setIssuedAt(issuedAt)
      .setExpirationTime(issuedAt + lifetime)
      .sign(key.secret);
    const minted = {
      header: `Bearer ${token}`,
      renewAt: (issuedAt + lifetime / 2) * 1000,
      expiresAt: (issuedAt + lifetime) * 1000 - expiryMarginMs,
    };
    this.#minted = minted;
    return minted.header;
  }
}

/**
 * Puts the edge's credential on every call to the message service. A refusal of it
 * (Unauthenticated) is the hop's misconfiguration, not the end user's: it becomes a retryable
 * Unavailable, so users never read it as "your token is bad".
 */
export function attachServiceCredential(credential: ServiceCredential): Interceptor {
  const refused = (error: unknown) => {
    const connectError = ConnectError.from(error);
    if (connectError.code !== Code.Unauthenticated) throw error;
    throw new ConnectError(`the message service refused the edge's credential: ${connectError.rawMessage}`, Code.Unavailable, undefined, undefined, error);
  };
  return (next) => (request) => {
    const header = credential.header();
    if (typeof header === "string") {
      request.header.set("authorization", header);
      return next(request).catch(refused);
    }
    return header.then((value) => {
      request.header.set("authorization", value);
      return next(request).catch(refused);
    });
  };
}

/** The credential for `config`: its key read once, or re-read from its file before each new assertion. */
export function createServiceCredential(config: ServiceCredentialConfig, logger: Logger, now: () => number = Date.now): ServiceCredential {
  const key: SigningKey =
    config.file === undefined
      ? { current: config.key, refresh: () => undefined }
      : new ReloadingFile<ServiceKey>({
          file: config.file,
          initial: config.key,
          parse: (text) => parseServiceKey(text, "SERVICE_AUTH_KEY_FILE"),
          equal: (a, b) => sameServiceKeys([a], [b]),
          maxAgeMs: 0,
          now,
          onChange: (next) => logger.info({ keyId: next.id }, "service credential signing key changed"),
          onError: (error) => logger.error({ err: error }, "service credential signing key could not be reloaded; keeping the previous one"),
        });
  return new ServiceCredential(key, { now, onError: (error) => logger.error({ err: error }, "service credential could not be renewed") });
}
