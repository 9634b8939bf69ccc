/**
 * Every shell example in the documentation runs here, against the stack `make run` starts,
 * so an example cannot rot. Pages: README.md, docs/**.md, bench/README.md, charts/chat/README.md.
 *
 * The convention for a fenced block:
 * - ```sh                  run with bash and real curl against `make run` (the in-memory engine),
 *                          started fresh for each page on free ports: `localhost:8080` (edge),
 *                          `:8081` (message service), `:9464` and `:9465` (metrics) in the text
 *                          are rewritten to them. Blocks of a page run in order on one stack.
 * - ```sh stack=run-auth   the same against `make run-auth` (bearer JWTs; `make -s token` works).
 * - ```sh skip=<reason>    not run: it needs what this machine lacks (a Kubernetes cluster,
 *                          docker) or starts what the test starts itself. It is listed as a
 *                          skipped test named after its reason, so the skip stays visible.
 * Other shell fences (bash, shell, console) are refused: a command block is run or skipped on purpose.
 *
 * Inside a block, the `# ` lines right after a command are its output; a command without such
 * lines must print nothing. Other comments (after a blank line) are prose. JSON output is
 * compared as JSON; `send_time`/`next_cursor` (and `sendTime`/`nextCursor`) values stand for
 * what the server assigns: each documented number is bound to the real one where it first
 * appears, must match it wherever it appears again, and is replaced by it in later commands.
 */
import { afterAll, describe, expect, it } from "vitest";
import { AssignedNumbers, expectedFor } from "./compare-output.js";
import { documentationPages, shellBlocks, type ShellBlock } from "./doc-examples.js";
import { freshEnvironment, repositoryRoot, startLocalStack, type LocalStack } from "./local-stack.js";
import { ShellSession } from "./shell-session.js";

// What a runnable block may do: talk to the stack with curl (or buf curl), and make a token.
// Anything else (make run, helm, a benchmark) must be marked skip=<reason>, never run by accident.
const allowedCommand = /^(?:[A-Z_]+=\$\(make -s token USER=\w+\)|(?:npx buf )?curl\b[\s\S]*)$/;

const localize = (text: string, stack: LocalStack) =>
  text.replace(/\b(?:localhost|127\.0\.0\.1):(8080|8081|9464|9465)\b/g, (_, port: "8080" | "8081" | "9464" | "9465") => `127.0.0.1:${stack.ports[port]}`);

async function checkBlock(block: ShellBlock, stack: LocalStack, numbers: AssignedNumbers): Promise<void> {
  for (const command of block.commands) {
    expect(command.text, `${block.page}:${command.line}: only curl commands run here; mark the block skip=<reason>`).toMatch(allowedCommand);
  }
  const shell = new ShellSession(repositoryRoot, freshEnvironment());
  try {
    for (const command of block.commands) {
      const where = `${block.page}:${command.line}: ${command.text}`;
      // Numbers earlier commands printed stand in for the documented ones.
      const { output, status } = await shell.run(localize(numbers.substitute(command.text), stack));
      expect(status, `${where}\nexited ${status}; stderr:\n${shell.stderr()}`).toBe(0);
      const { expected, actual } = expectedFor(command.output, output, numbers);
      expect(actual, `${where}\nprinted something else than documented`).toEqual(expected);
    }
  } finally {
    shell.close();
  }
}

for (const page of documentationPages(repositoryRoot)) {
  const blocks = shellBlocks(repositoryRoot, page);
  const runnable = blocks.filter((block) => block.mode.kind === "run");
  if (blocks.length === 0) continue;

  describe(page, () => {
    const stacks = new Map<"run" | "run-auth", Promise<LocalStack>>();
    afterAll(async () => {
      for (const stack of stacks.values()) await (await stack.catch(() => undefined))?.stop("SIGTERM", "group");
    });

    for (const block of blocks) {
      if (block.mode.kind === "skip") it.skip(`${page}:${block.line} skipped: ${block.mode.reason}`, () => {});
    }
    if (runnable.length === 0) return;

    // One test per page: its blocks build on each other (a send, then the pull that finds it).
    it(`runs the examples of ${page} as documented`, { timeout: 300_000 }, async () => {
      const numbers = new AssignedNumbers();
      for (const block of runnable) {
        if (block.mode.kind !== "run") continue;
        const target = block.mode.stack;
        if (!stacks.has(target)) stacks.set(target, startLocalStack(target));
        await checkBlock(block, await stacks.get(target)!, numbers);
      }
    });
  });
}
