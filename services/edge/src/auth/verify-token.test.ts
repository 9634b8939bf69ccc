import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { exportJWK, generateKeyPair, SignJWT, type JWK, type JWTPayload, type CryptoKey } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { JwtSettings } from "./config.js";
import { createTokenVerifier, KeysUnavailable, TokenRejected } from "./verify-token.js";

const secret = new TextEncoder().encode("a-test-secret-that-is-32-bytes-long!");
const issuer = "https://issuer.test";
const audience = "chat-api";
const now = () => Math.floor(Date.now() / 1000);

function sign(key: CryptoKey | Uint8Array, header: { alg: string; kid?: string }, claims: JWTPayload = {}) {
  return new SignJWT({ iss: issuer, aud: audience, sub: "alice", iat: now(), exp: now() + 300, ...claims })
    .setProtectedHeader(header)
    .sign(key);
}

async function rejectionOf(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error("expected a rejection");
}

const hsSettings: JwtSettings = {
  keys: { kind: "secret", secret },
  algorithms: ["HS256"],
  issuer,
  audience: [audience],
  clockSkewSeconds: 30,
  maxTokenLifetimeSeconds: 0,
};

describe("HS256 with a shared secret", () => {
  const verify = createTokenVerifier(hsSettings);

  it("answers the subject of a valid token", async () => {
    expect(await verify(await sign(secret, { alg: "HS256" }, { sub: "ünï😀" }))).toBe("ünï😀");
  });

  it.each([
    ["expired", { exp: now() - 120 }, "the token has expired"],
    ["for another audience", { aud: "someone-else" }, "the token's 'aud' claim is not accepted"],
    ["from another issuer", { iss: "https://evil.test" }, "the token's 'iss' claim is not accepted"],
    ["not valid yet", { nbf: now() + 600 }, "the token is not valid yet"],
    ["without expiry", { exp: undefined }, "the token has no 'exp' claim"],
    ["without subject", { sub: undefined }, "the token has no 'sub' claim"],
    ["with an empty subject", { sub: "" }, "not a usable user id"],
    ["with a lone surrogate in the subject", { sub: "al\ud800ice" }, "not a usable user id"],
    ["with a non-string subject", { sub: 42 as unknown as string }, /sub/],
  ])("refuses a token %s", async (_name, claims, reason) => {
    const error = await rejectionOf(verify(await sign(secret, { alg: "HS256" }, claims)));
    expect(error).toBeInstanceOf(TokenRejected);
    expect(error.message).toMatch(reason);
  });

  it("tolerates the configured clock skew and no more", async () => {
    expect(await verify(await sign(secret, { alg: "HS256" }, { exp: now() - 10 }))).toBe("alice");
    expect(await rejectionOf(verify(await sign(secret, { alg: "HS256" }, { exp: now() - 40 })))).toBeInstanceOf(TokenRejected);
  });

  it("refuses a token signed with another secret", async () => {
    const other = new TextEncoder().encode("another-secret-that-is-32-bytes-long");
    const error = await rejectionOf(verify(await sign(other, { alg: "HS256" })));
    expect(error.message).toBe("the token's signature is invalid");
  });

  it("refuses a token whose payload was changed after signing", async () => {
    const [head, , signature] = (await sign(secret, { alg: "HS256" })).split(".");
    const forged = Buffer.from(JSON.stringify({ iss: issuer, aud: audience, sub: "bob", exp: now() + 300 })).toString("base64url");
    const error = await rejectionOf(verify(`${head}.${forged}.${signature}`));
    expect(error.message).toBe("the token's signature is invalid");
  });

  it("refuses unsigned tokens and algorithms it was not told to accept", async () => {
    const header = (alg: string) => Buffer.from(JSON.stringify({ alg })).toString("base64url");
    const body = Buffer.from(JSON.stringify({ iss: issuer, aud: audience, sub: "alice", exp: now() + 300 })).toString("base64url");
    expect(await rejectionOf(verify(`${header("none")}.${body}.`))).toBeInstanceOf(TokenRejected);
    const hs512 = await sign(secret, { alg: "HS512" });
    expect((await rejectionOf(verify(hs512))).message).toBe("the token's signing algorithm is not accepted");
  });

  it.each(["", "x", "a.b", "a.b.c", "....", "é.é.é"])("refuses garbage %j as malformed", async (token) => {
    expect(await rejectionOf(verify(token))).toBeInstanceOf(TokenRejected);
  });
});

describe("a maximum token lifetime", () => {
  const hour = 3_600;
  const verify = createTokenVerifier({ ...hsSettings, maxTokenLifetimeSeconds: hour });
  const token = (claims: JWTPayload) => sign(secret, { alg: "HS256" }, claims);

  it("accepts a token that lives exactly as long as allowed, or less", async () => {
    expect(await verify(await token({ iat: now() - 60, exp: now() - 60 + hour }))).toBe("alice");
    expect(await verify(await token({ iat: now(), exp: now() + 300 }))).toBe("alice");
  });

  it("refuses a token whose exp - iat is longer, even when little of it is left", async () => {
    const error = await rejectionOf(verify(await token({ iat: now() - 2 * hour, exp: now() + 60 })));
    expect(error).toBeInstanceOf(TokenRejected);
    expect(error.message).toBe(`the token's lifetime (exp - iat) of ${2 * hour + 60} s is longer than the ${hour} s this API accepts`);
  });

  it("refuses a token valid until the year 9999", async () => {
    const error = await rejectionOf(verify(await token({ exp: 253_402_300_799 })));
    expect(error.message).toMatch(/^the token's lifetime \(exp - iat\) of \d+ s is longer than the 3600 s this API accepts$/);
  });

  it("judges a token without iat by what is left of its life, allowing for clock skew", async () => {
    expect(await verify(await token({ iat: undefined, exp: now() + hour + 20 }))).toBe("alice");
    const error = await rejectionOf(verify(await token({ iat: undefined, exp: now() + hour + 120 })));
    expect(error.message).toMatch(/^the token's remaining lifetime \(exp - now\) of 37\d\d s is longer than the 3600 s this API accepts$/);
  });

  it("accepts any lifetime when the limit is 0", async () => {
    const unlimited = createTokenVerifier(hsSettings);
    expect(await unlimited(await token({ exp: 253_402_300_799 }))).toBe("alice");
  });
});

describe("RS256 and ES256 against a JWKS URL", () => {
  let server: http.Server;
  let published: JWK[] = [];
  let fetches = 0;
  let rsa: { privateKey: CryptoKey; jwk: JWK };
  let ec: { privateKey: CryptoKey; jwk: JWK };

  async function keyPair(alg: "RS256" | "ES256", kid: string) {
    const { privateKey, publicKey } = await generateKeyPair(alg);
    return { privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: "sig" } };
  }

  beforeAll(async () => {
    [rsa, ec] = await Promise.all([keyPair("RS256", "rsa-1"), keyPair("ES256", "ec-1")]);
    published = [rsa.jwk, ec.jwk];
    server = http.createServer((request, response) => {
      fetches++;
      if (request.url !== "/jwks.json") return void response.writeHead(404).end();
      response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ keys: published }));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const settings = (path = "/jwks.json"): JwtSettings => ({
    keys: { kind: "jwks", url: new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}${path}`) },
    algorithms: ["RS256", "ES256"],
    issuer,
    audience: [audience, "other-api"],
    clockSkewSeconds: 0,
    maxTokenLifetimeSeconds: 0,
  });

  it("verifies tokens of either algorithm, fetching the key set once", async () => {
    const verify = createTokenVerifier(settings());
    const before = fetches;
    expect(await verify(await sign(rsa.privateKey, { alg: "RS256", kid: "rsa-1" }))).toBe("alice");
    expect(await verify(await sign(ec.privateKey, { alg: "ES256", kid: "ec-1" }, { sub: "bob" }))).toBe("bob");
    expect(await verify(await sign(ec.privateKey, { alg: "ES256", kid: "ec-1" }, { aud: "other-api" }))).toBe("alice");
    expect(fetches - before).toBe(1);
  });

  it("refuses a token signed by a key the set does not hold", async () => {
    const verify = createTokenVerifier(settings());
    const stranger = await keyPair("RS256", "rsa-1");
    expect((await rejectionOf(verify(await sign(stranger.privateKey, { alg: "RS256", kid: "rsa-1" })))).message).toBe(
      "the token's signature is invalid",
    );
    expect((await rejectionOf(verify(await sign(stranger.privateKey, { alg: "RS256", kid: "nobody" })))).message).toBe(
      "the token is signed with an unknown key",
    );
  });

  it("refuses an HS256 token made with a public key as the secret (algorithm confusion)", async () => {
    const verify = createTokenVerifier(settings());
    const confused = new TextEncoder().encode(JSON.stringify(rsa.jwk));
    const error = await rejectionOf(verify(await sign(confused, { alg: "HS256", kid: "rsa-1" })));
    expect(error.message).toBe("the token's signing algorithm is not accepted");
  });

  it("picks up a rotated key without a restart, and drops the retired one", async () => {
    // Cooldown 0: the refetch an unknown kid triggers may happen at once (30 s in service).
    const verify = createTokenVerifier(settings(), { jwksCooldownMs: 0 });
    const old = await sign(rsa.privateKey, { alg: "RS256", kid: "rsa-1" });
    expect(await verify(old)).toBe("alice");
    const rotated = await keyPair("RS256", "rsa-2");
    published = [rotated.jwk, ec.jwk];
    const before = fetches;
    expect(await verify(await sign(rotated.privateKey, { alg: "RS256", kid: "rsa-2" }))).toBe("alice");
    expect(fetches - before).toBe(1);
    expect((await rejectionOf(verify(old))).message).toBe("the token is signed with an unknown key");
    published = [rsa.jwk, ec.jwk];
  });

  it("says the keys are unavailable, not that the token is bad, when the JWKS cannot be fetched", async () => {
    const verify = createTokenVerifier(settings("/missing"));
    const error = await rejectionOf(verify(await sign(rsa.privateKey, { alg: "RS256", kid: "rsa-1" })));
    expect(error).toBeInstanceOf(KeysUnavailable);
  });
});
