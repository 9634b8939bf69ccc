import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { ConfigError } from "./env.js";
import { parseServiceKey, parseServiceKeys, sameServiceKeys } from "./service-keys.js";

const secret = () => randomBytes(32).toString("base64url");

function problem(parse: () => unknown): string {
  try {
    parse();
  } catch (error) {
    if (error instanceof ConfigError) return error.message;
    throw error;
  }
  throw new Error("expected a ConfigError");
}

describe("parseServiceKeys", () => {
  it("reads kid=base64url entries separated by newlines, commas or spaces, in order", () => {
    const [a, b, c] = [secret(), secret(), secret()];
    const keys = parseServiceKeys(`2026-02=${a}\n2026-01=${b}, old.key_1=${c}\n`, "SERVICE_AUTH_KEYS");
    expect(keys.map((key) => key.id)).toEqual(["2026-02", "2026-01", "old.key_1"]);
    expect(Buffer.from(keys[0]!.secret).toString("base64url")).toBe(a);
  });

  it.each([
    ["", "holds no key"],
    [`=${secret()}`, "each key must be kid=secret"],
    [secret(), "each key must be kid=secret"],
    [`bad kid!=${secret()}`, "each key must be kid=secret"],
    [`k1=${secret()}+/`, "base64url ('-' and '_'"],
    [`k1=not*base64`, "is not base64url"],
    [`k1=${randomBytes(31).toString("base64url")}`, "at least 32 random bytes (it has 31)"],
    [`k1=${Buffer.alloc(32, 7).toString("base64url")}`, "a repeating pattern"],
    [`k1=${Buffer.from("abcd".repeat(8)).toString("base64url")}`, "a repeating pattern"],
  ])("refuses %j: %s", (text, message) => {
    const error = problem(() => parseServiceKeys(text, "SERVICE_AUTH_KEYS"));
    expect(error).toContain("SERVICE_AUTH_KEYS: ");
    expect(error).toContain(message);
  });

  it("refuses a kid given twice", () => {
    expect(problem(() => parseServiceKeys(`k1=${secret()} k1=${secret()}`, "SERVICE_AUTH_KEYS"))).toContain(`key "k1" is given twice`);
  });

  it("never repeats the secret in its messages", () => {
    const short = randomBytes(20).toString("base64url");
    expect(problem(() => parseServiceKeys(`k1=${short}`, "SERVICE_AUTH_KEYS"))).not.toContain(short);
  });
});

describe("parseServiceKey", () => {
  it("reads exactly one key", () => {
    const value = secret();
    expect(parseServiceKey(`edge-1=${value}`, "SERVICE_AUTH_KEY")).toEqual({ id: "edge-1", secret: new Uint8Array(Buffer.from(value, "base64url")) });
    expect(problem(() => parseServiceKey(`a=${secret()},b=${secret()}`, "SERVICE_AUTH_KEY"))).toContain("holds 2 keys");
  });
});

describe("sameServiceKeys", () => {
  it("compares ids, secrets and order", () => {
    const [a, b] = [secret(), secret()];
    const keys = parseServiceKeys(`x=${a} y=${b}`, "K");
    expect(sameServiceKeys(keys, parseServiceKeys(`x=${a} y=${b}`, "K"))).toBe(true);
    expect(sameServiceKeys(keys, parseServiceKeys(`y=${b} x=${a}`, "K"))).toBe(false);
    expect(sameServiceKeys(keys, parseServiceKeys(`x=${a} y=${a}`, "K"))).toBe(false);
    expect(sameServiceKeys(keys, parseServiceKeys(`x=${a}`, "K"))).toBe(false);
  });
});
