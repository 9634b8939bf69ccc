import { randomBytes } from "node:crypto";
import { SignJWT, type JWTPayload } from "jose";

/** A key in the SERVICE_AUTH_KEY(S) format, `kid=base64url`, with its bytes. */
export interface TestServiceKey {
  readonly id: string;
  readonly entry: string;
  readonly secret: Uint8Array;
}

export function serviceKey(id: string): TestServiceKey {
  const secret = randomBytes(32);
  return { id, entry: `${id}=${secret.toString("base64url")}`, secret: new Uint8Array(secret) };
}

const now = () => Math.floor(Date.now() / 1000);

/**
 * An `authorization` header value as the edge makes it for calls to the message service
 * (HS256, iss chat-edge, aud chat-message, 60 s), with `claims` and `header` changed; a claim
 * set to undefined is left out.
 */
export async function signedAssertion(key: TestServiceKey, claims: JWTPayload = {}, header: { alg?: string; kid?: string } = {}): Promise<string> {
  const token = await new SignJWT({ iss: "chat-edge", aud: "chat-message", iat: now(), exp: now() + 60, ...claims })
    .setProtectedHeader({ alg: "HS256", kid: key.id, ...header })
    .sign(key.secret);
  return `Bearer ${token}`;
}

/** The same assertion with another payload and the original signature: what tampering produces. */
export function tampered(authorization: string, claims: JWTPayload): string {
  const [head, , signature] = authorization.split(".");
  return `${head}.${Buffer.from(JSON.stringify(claims)).toString("base64url")}.${signature}`;
}
