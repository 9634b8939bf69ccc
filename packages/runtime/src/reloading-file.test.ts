import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ReloadingFile } from "./reloading-file.js";

describe("ReloadingFile", () => {
  let dir: string;
  let file: string;
  let now: number;
  let changes: [number, number][];
  let failures: unknown[];

  const numbers = () =>
    new ReloadingFile<number>({
      file,
      initial: 1,
      parse: (text) => {
        const value = Number(text);
        if (!Number.isInteger(value)) throw new Error(`not a number: ${text}`);
        return value;
      },
      equal: (a, b) => a === b,
      maxAgeMs: 10_000,
      now: () => now,
      onChange: (value, previous) => changes.push([previous, value]),
      onError: (error) => failures.push(error),
    });

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "reloading-"));
    file = join(dir, "value");
    writeFileSync(file, "1\n");
    now = 1_000_000;
    changes = [];
    failures = [];
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("re-reads the file only once the last read is older than maxAgeMs", async () => {
    const source = numbers();
    writeFileSync(file, "2\n");
    expect(source.refresh()).toBeUndefined();
    now += 9_999;
    expect(source.refresh()).toBeUndefined();
    expect(source.current).toBe(1);
    now += 1;
    await source.refresh();
    expect(source.current).toBe(2);
    expect(changes).toEqual([[1, 2]]);
    expect(source.refresh()).toBeUndefined();
  });

  it("reads once for many callers, and reports no change when the value is the same", async () => {
    const source = numbers();
    now += 10_000;
    const first = source.refresh();
    expect(source.refresh()).toBe(first);
    await first;
    expect(changes).toEqual([]);
    expect(source.current).toBe(1);
  });

  it("keeps the last good value when the file turns malformed or vanishes", async () => {
    const source = numbers();
    writeFileSync(file, "half-writ");
    now += 10_000;
    await source.refresh();
    rmSync(file);
    now += 10_000;
    await source.refresh();
    expect(source.current).toBe(1);
    expect(failures.map((error) => (error as Error).message)).toEqual(["not a number: half-writ", expect.stringContaining("ENOENT")]);
    writeFileSync(file, "3");
    now += 10_000;
    await source.refresh();
    expect(source.current).toBe(3);
  });
});
