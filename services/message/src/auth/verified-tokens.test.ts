import { describe, expect, it } from "vitest";
import { VerifiedTokens } from "./verified-tokens.js";

describe("VerifiedTokens", () => {
  it("holds a token until its expiry, not a millisecond longer", () => {
    let now = 1_000;
    const tokens = new VerifiedTokens({ now: () => now });
    tokens.add("h.p.a", 61_000);
    expect(tokens.has("h.p.a")).toBe(true);
    now = 60_999;
    expect(tokens.has("h.p.a")).toBe(true);
    now = 61_000;
    expect(tokens.has("h.p.a")).toBe(false);
    expect(tokens.size).toBe(0);
    expect(tokens.has("never added")).toBe(false);
  });

  it("ignores a token that has already expired", () => {
    const tokens = new VerifiedTokens({ now: () => 5_000 });
    tokens.add("late", 5_000);
    expect(tokens.has("late")).toBe(false);
    expect(tokens.size).toBe(0);
  });

  it("stays within maxEntries: expired tokens go first, then the oldest", () => {
    let now = 0;
    const tokens = new VerifiedTokens({ maxEntries: 3, now: () => now });
    tokens.add("old", 100_000);
    tokens.add("short", 10);
    tokens.add("mid", 100_000);
    now = 20;
    tokens.add("new", 100_000);
    expect(tokens.size).toBe(3);
    expect(["old", "mid", "new"].map((token) => tokens.has(token))).toEqual([true, true, true]);
    tokens.add("newest", 100_000);
    expect(tokens.size).toBe(3);
    expect(["old", "mid", "new", "newest"].map((token) => tokens.has(token))).toEqual([false, true, true, true]);
  });

  it("holds a re-added token once, as the newest", () => {
    const tokens = new VerifiedTokens({ maxEntries: 2, now: () => 0 });
    tokens.add("a", 100);
    tokens.add("b", 100);
    tokens.add("a", 100);
    tokens.add("c", 100);
    expect([tokens.has("a"), tokens.has("b"), tokens.has("c")]).toEqual([true, false, true]);
  });

  it("matches only the very token it verified, not another one ending in the same signature", () => {
    const tokens = new VerifiedTokens({ now: () => 0 });
    tokens.add("Bearer head.payload.signature", 100);
    expect(tokens.has("Bearer head.payload.signature")).toBe(true);
    expect(tokens.has("Bearer head.forged-payload.signature")).toBe(false);
    expect(tokens.has("Bearer head.payload.signature")).toBe(true);
  });

  it("forgets everything on clear", () => {
    const tokens = new VerifiedTokens({ now: () => 0 });
    tokens.add("a", 100);
    tokens.clear();
    expect(tokens.has("a")).toBe(false);
  });
});
