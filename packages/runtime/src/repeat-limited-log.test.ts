import { Writable } from "node:stream";
import { pino } from "pino";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { serializeError } from "./error-serializer.js";
import { limitRepeats } from "./repeat-limited-log.js";

type Line = Record<string, unknown>;

/** A pino logger writing synchronously into `lines`, as the services' logger does to stdout. */
function capturingLogger() {
  const lines: Line[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const text of chunk.toString("utf8").split("\n")) if (text !== "") lines.push(JSON.parse(text) as Line);
      done();
    },
  });
  return { logger: pino({ serializers: { err: serializeError } }, sink), lines };
}

const cause = (n: number) => new Error(`connect ECONNREFUSED (attempt ${n})`);

describe("limitRepeats", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("logs the first occurrence of a kind in full, with its error and stack", () => {
    const { logger, lines } = capturingLogger();
    const log = limitRepeats(logger, { intervalMs: 10_000 });
    log.log("error", "Send:unavailable", { err: cause(1), procedure: "Send" }, "message storage is unavailable");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 50, msg: "message storage is unavailable", procedure: "Send", repeat_kind: "Send:unavailable" });
    expect((lines[0]!.err as { stack: string }).stack).toMatch(/attempt 1\)\n\s+at /);
  });

  it("counts repeats within the interval and logs one summary per interval while they go on", () => {
    const { logger, lines } = capturingLogger();
    const log = limitRepeats(logger, { intervalMs: 10_000 });
    for (let second = 0; second < 25; second++) {
      for (let i = 0; i < 100; i++) log.log("warn", "redis connection", { err: cause(second * 100 + i) }, "redis connection error");
      vi.advanceTimersByTime(1_000);
    }
    // At 0 s the first in full; at 10 s and 20 s a summary each of what came since.
    expect(lines.map((line) => line.suppressed)).toEqual([undefined, 999, 1_000]);
    expect(lines[1]).toMatchObject({ level: 40, repeat_kind: "redis connection", interval_ms: 10_000, last_error: "connect ECONNREFUSED (attempt 999)" });
    expect(lines[1]!.msg).toBe("redis connection error (999 more in the last 10 s)");
    expect(lines[1]!.err).toBeUndefined();
    vi.advanceTimersByTime(10_000);
    // 500 occurrences from 20 s to 25 s; then quiet, so the window closes.
    expect(lines.map((line) => line.suppressed)).toEqual([undefined, 999, 1_000, 500]);
    vi.advanceTimersByTime(30_000);
    expect(lines).toHaveLength(4);
    log.log("warn", "redis connection", { err: cause(0) }, "redis connection error");
    expect(lines[4]).toMatchObject({ repeat_kind: "redis connection", err: { message: "connect ECONNREFUSED (attempt 0)" } });
  });

  it("keeps kinds apart", () => {
    const { logger, lines } = capturingLogger();
    const log = limitRepeats(logger, { intervalMs: 1_000 });
    for (const kind of ["Send:unavailable", "Pull:unavailable", "Send:unavailable", "Pull:internal"]) {
      log.log("error", kind, { err: cause(0) }, kind);
    }
    expect(lines.map((line) => line.repeat_kind)).toEqual(["Send:unavailable", "Pull:unavailable", "Pull:internal"]);
    vi.advanceTimersByTime(1_000);
    expect(lines.slice(3).map((line) => [line.repeat_kind, line.suppressed])).toEqual([["Send:unavailable", 1]]);
  });

  it("folds kinds past maxKinds into one, so memory stays bounded", () => {
    const { logger, lines } = capturingLogger();
    const log = limitRepeats(logger, { intervalMs: 1_000, maxKinds: 2 });
    for (let i = 0; i < 10; i++) log.log("error", `kind ${i}`, {}, `failure ${i}`);
    expect(lines.map((line) => line.repeat_kind)).toEqual(["kind 0", "kind 1", "other"]);
    vi.advanceTimersByTime(1_000);
    expect(lines[3]).toMatchObject({ repeat_kind: "other", suppressed: 7 });
  });

  it("logs every occurrence with an interval of 0", () => {
    const { logger, lines } = capturingLogger();
    const log = limitRepeats(logger, { intervalMs: 0 });
    for (let i = 0; i < 5; i++) log.log("error", "same", { err: cause(i) }, "failure");
    expect(lines).toHaveLength(5);
    expect(lines.every((line) => (line.err as { stack?: string }).stack !== undefined)).toBe(true);
  });

  it("logs pending summaries on flush and then starts afresh", () => {
    const { logger, lines } = capturingLogger();
    const log = limitRepeats(logger, { intervalMs: 60_000 });
    for (let i = 0; i < 3; i++) log.log("error", "same", {}, "failure");
    log.flush();
    expect(lines.map((line) => line.suppressed)).toEqual([undefined, 2]);
    vi.advanceTimersByTime(120_000);
    expect(lines).toHaveLength(2);
  });
});
