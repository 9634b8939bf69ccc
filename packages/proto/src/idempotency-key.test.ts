import { describe, expect, it } from "vitest";
import { idempotencyKeyProblem, maxIdempotencyKeyLength } from "./idempotency-key.js";

describe("idempotencyKeyProblem", () => {
  it.each(["", "5f1c2a9e-0b7d-4c3e-9f4a-2d6b8e1c7a35", "k", "order:42/retry#1", "~!\"#$%&'()*+,-./", "x".repeat(128)])(
    "accepts %j",
    (key) => {
      expect(idempotencyKeyProblem(key)).toBeUndefined();
    },
  );

  it("refuses a key longer than the maximum", () => {
    expect(maxIdempotencyKeyLength).toBe(128);
    expect(idempotencyKeyProblem("x".repeat(129))).toBe("is longer than 128 characters");
  });

  // "5f1c…" sent in a header reaches Node as the latin1 reading of its UTF-8 bytes.
  it.each(["5f1c…", "5f1c\u00e2\u0080\u00a6", "5f1cé", "a b", " lead", "tab\there", "nul\u0000", "del\u007f", "😀", "\ud800"])(
    "refuses %j, which would not mean the same in a header and in a body",
    (key) => {
      expect(idempotencyKeyProblem(key)).toMatch(/^may contain only visible ASCII characters/);
    },
  );
});
