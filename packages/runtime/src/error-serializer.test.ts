import { Writable } from "node:stream";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { serializeError } from "./error-serializer.js";

function logged(error: unknown): string {
  let output = "";
  const sink = new Writable({
    write(chunk, _encoding, done) {
      output += String(chunk);
      done();
    },
  });
  pino({ serializers: { err: serializeError } }, sink).error({ err: error }, "failed");
  return output;
}

function replyError(message: string, command: { name: string; args: string[] }) {
  return Object.assign(new Error(message), { name: "ReplyError", command });
}

describe("serializeError", () => {
  it("logs the failed Redis command's name but not its arguments", () => {
    const error = replyError("WRONGPASS invalid username-password pair", { name: "auth", args: ["user", "hunter2-secret"] });
    const line = JSON.parse(logged(error));
    expect(line.err.message).toContain("WRONGPASS");
    expect(line.err.command).toEqual({ name: "auth" });
    expect(JSON.stringify(line)).not.toContain("hunter2-secret");
    // The error itself is left as it was.
    expect(error.command.args).toEqual(["user", "hunter2-secret"]);
  });

  it("scrubs nested errors too (cluster node errors, aggregates)", () => {
    const nested = replyError("NOPERM", { name: "evalsha", args: ["sha", "private message text"] });
    const outer = Object.assign(new Error("all nodes failed"), { lastNodeError: nested });
    const aggregate = new AggregateError([replyError("x", { name: "auth", args: ["pw-in-aggregate"] })], "many");
    const text = logged(outer) + logged(aggregate);
    expect(text).not.toContain("private message text");
    expect(text).not.toContain("pw-in-aggregate");
    expect(text).toContain("evalsha");
  });

  it("keeps everything else pino logs about an error", () => {
    const line = JSON.parse(logged(Object.assign(new Error("boom"), { code: "ECONNREFUSED" })));
    expect(line.err).toMatchObject({ type: "Error", message: "boom", code: "ECONNREFUSED", stack: expect.stringContaining("boom") });
  });
});
