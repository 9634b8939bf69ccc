import { describe, expect, it } from "vitest";
import { AssignedNumbers, expectedFor } from "./compare-output.js";
import { commandsOf } from "./doc-examples.js";

// The example runner's own rules: if these broke, wrong documentation would pass unnoticed.
describe("reading examples", () => {
  it("takes the # lines right after a command as its output, and other comments as prose", () => {
    const block = [
      "# prose before the first command",
      "curl a \\",
      "  -d '{}'",
      '# {"ok":true}',
      "",
      "# prose again",
      "curl b",
      "curl c",
      "# 200",
    ];
    expect(commandsOf(block, 10)).toEqual([
      { text: "curl a \\\n  -d '{}'", line: 11, output: ['{"ok":true}'] },
      { text: "curl b", line: 16, output: [] },
      { text: "curl c", line: 17, output: ["200"] },
    ]);
  });
});

describe("comparing output", () => {
  it("binds a documented send_time to the real one and substitutes it in later commands", () => {
    const numbers = new AssignedNumbers();
    const { expected, actual } = expectedFor(['{"send_time":1795745527222393,"text":"hi"}'], '{"send_time":1796157259315149,"text":"hi"}', numbers);
    expect(actual).toEqual(expected);
    expect(numbers.substitute("curl 'x?cursor=1795745527222393'")).toBe("curl 'x?cursor=1796157259315149'");
  });

  it("fails when one documented number stands for two different real ones", () => {
    const numbers = new AssignedNumbers();
    expectedFor(['{"send_time":1795745527222393}'], '{"send_time":1796157259315149}', numbers);
    const { expected, actual } = expectedFor(['{"next_cursor":1795745527222393}'], '{"next_cursor":1796157259999999}', numbers);
    expect(actual).not.toEqual(expected);
  });

  it("compares every other value exactly, and text lines as text", () => {
    const numbers = new AssignedNumbers();
    const json = expectedFor(['{"send_time":1795745527222393,"text":"hi"}'], '{"send_time":1796157259315149,"text":"ho"}', numbers);
    expect(json.actual).not.toEqual(json.expected);
    const zero = expectedFor(['{"next_cursor":0}'], '{"next_cursor":1796157259315149}', numbers);
    expect(zero.actual).not.toEqual(zero.expected);
    const text = expectedFor(["401"], "403", numbers);
    expect(text.actual).not.toEqual(text.expected);
    const missing = expectedFor([], "something printed", numbers);
    expect(missing.actual).not.toEqual(missing.expected);
  });
});
