import { readFileSync } from "node:fs";
import { ConfigError } from "./env.js";

/**
 * A secret from `NAME` or from the file named by `NAME_FILE` (a mounted Kubernetes Secret),
 * undefined when neither is set. One trailing newline of the file is dropped. Errors name
 * the variable and the file, never the secret.
 */
export function readSecret(
  name: string,
  value: string | undefined,
  file: string | undefined,
): string | undefined {
  if (value !== undefined && file !== undefined) {
    throw new ConfigError(`invalid configuration:\n  set either ${name} or ${name}_FILE, not both`);
  }
  if (file === undefined) return value;
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? "unreadable";
    throw new ConfigError(`invalid configuration:\n  ${name}_FILE=${JSON.stringify(file)}: cannot be read (${reason})`);
  }
  const secret = text.replace(/\r?\n$/, "");
  if (secret === "") throw new ConfigError(`invalid configuration:\n  ${name}_FILE=${JSON.stringify(file)}: is empty`);
  return secret;
}
