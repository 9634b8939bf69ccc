import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { generatedFiles } from "./generated-files.js";

const root = fileURLToPath(new URL("../../", import.meta.url));

// The configuration references and the chart's values table are made from the code's own
// schemas (zod `.describe()`, `# --` comments); a stale copy would tell operators something false.
describe("generated reference pages", () => {
  it.each(generatedFiles.map((file) => [file.path, file] as const))("%s is up to date", (path, file) => {
    let committed = "";
    try {
      committed = readFileSync(join(root, path), "utf8");
    } catch {
      // A missing page fails below, with the same advice.
    }
    expect(committed, `${path} is stale: run \`make docs\` and commit the result`).toBe(file.render());
  });
});
