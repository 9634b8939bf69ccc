import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";

/** How a shell block is treated: run against one of the two local stacks, or skipped with a reason. */
export type BlockMode = { readonly kind: "run"; readonly stack: "run" | "run-auth" } | { readonly kind: "skip"; readonly reason: string };

/** One command of a block (continuation lines joined) and the output documented under it. */
export interface Command {
  readonly text: string;
  readonly line: number;
  /** The `# ` lines right after the command, without the `# `; empty: it must print nothing. */
  readonly output: readonly string[];
}

export interface ShellBlock {
  readonly page: string;
  /** 1-based line of the opening fence. */
  readonly line: number;
  readonly mode: BlockMode;
  readonly commands: readonly Command[];
}

const shellLanguages = new Set(["sh", "bash", "shell", "console", "zsh"]);

/** The pages whose examples are checked: the README files and everything under docs/. */
export function documentationPages(root: string): string[] {
  const docs = readdirSync(join(root, "docs"), { recursive: true, encoding: "utf8" })
    .filter((name) => name.endsWith(".md"))
    .map((name) => join("docs", name));
  return ["README.md", ...docs.sort(), "bench/README.md", "charts/chat/README.md"].map((page) => relative(root, join(root, page)));
}

function modeOf(info: string, where: string): BlockMode {
  const [language = "", ...attributes] = info.trim().split(/\s+/);
  if (language !== "sh") {
    throw new Error(`${where}: shell examples are fenced as \`sh\` (run or skip=<reason>), not \`${language}\``);
  }
  let mode: BlockMode = { kind: "run", stack: "run" };
  for (const attribute of attributes) {
    const [key, value = ""] = attribute.split("=", 2);
    if (key === "skip" && value !== "") mode = { kind: "skip", reason: value };
    else if (key === "stack" && (value === "run" || value === "run-auth")) mode = { kind: "run", stack: value };
    else throw new Error(`${where}: unknown block attribute "${attribute}" (use skip=<reason> or stack=run-auth)`);
  }
  return mode;
}

/** Commands and their documented output: `# ` lines right after a command are its output. */
export function commandsOf(lines: readonly string[], firstLine: number): Command[] {
  const commands: { text: string; line: number; output: string[] }[] = [];
  let current: { text: string; line: number; output: string[] } | undefined;
  let continuing = false;
  lines.forEach((raw, index) => {
    const line = raw.trimEnd();
    if (continuing && current) {
      current.text += `\n${line}`;
      continuing = line.endsWith("\\");
      return;
    }
    if (line.trim() === "") {
      current = undefined;
      return;
    }
    if (line.startsWith("#")) {
      // Right after a command: its output. Anywhere else: prose.
      if (current) current.output.push(line.replace(/^# ?/, ""));
      return;
    }
    current = { text: line, line: firstLine + index, output: [] };
    commands.push(current);
    continuing = line.endsWith("\\");
  });
  return commands;
}

/** Every shell block of a page, with how it is to be treated. */
export function shellBlocks(root: string, page: string): ShellBlock[] {
  const lines = readFileSync(join(root, page), "utf8").split("\n");
  const blocks: ShellBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const fence = /^(\s*)(```+)(.*)$/.exec(lines[i]!);
    if (!fence) continue;
    const close = lines.findIndex((text, j) => j > i && text.trim() === fence[2]);
    if (close === -1) throw new Error(`${page}:${i + 1}: unclosed code block`);
    const language = (fence[3] ?? "").trim().split(/\s+/)[0] ?? "";
    if (shellLanguages.has(language)) {
      const where = `${page}:${i + 1}`;
      blocks.push({ page, line: i + 1, mode: modeOf(fence[3] ?? "", where), commands: commandsOf(lines.slice(i + 1, close), i + 2) });
    }
    i = close;
  }
  return blocks;
}
