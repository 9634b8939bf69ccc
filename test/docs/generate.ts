// Writes every generated reference page (`make docs`); the check in test/docs/generated.test.ts
// fails when one of them differs from what this would write.
import { writeFileSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { generatedFiles } from "./generated-files.js";

const root = fileURLToPath(new URL("../../", import.meta.url));
for (const file of generatedFiles) {
  const path = join(root, file.path);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, file.render());
  console.log(`wrote ${file.path}`);
}
