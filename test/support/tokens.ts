import { SignJWT, type CryptoKey, type JWTPayload } from "jose";

/** Issuer and audience the security tests configure the edge with. */
export const testIssuer = "https://issuer.test";
export const testAudience = "chat-api";
export const testSecret = "test-only-hs256-secret-of-32-bytes!!";

const now = () => Math.floor(Date.now() / 1000);

/**
 * A signed JWT for `sub`, valid for five minutes unless `claims` say otherwise (a claim
 * set to undefined is left out).
 */
export function signToken(
  sub: string,
  claims: JWTPayload = {},
  key: CryptoKey | Uint8Array = new TextEncoder().encode(testSecret),
  header: { alg: string; kid?: string } = { alg: "HS256" },
): Promise<string> {
  return new SignJWT({ iss: testIssuer, aud: testAudience, sub, iat: now(), exp: now() + 300, ...claims })
    .setProtectedHeader(header)
    .sign(key);
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
