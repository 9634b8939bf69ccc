import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";

const separator = "\u001e";

/**
 * One bash that runs commands one at a time, so a command can depend on what an earlier one
 * printed and on the variables it set. Runs in its own process group: `close()` stops
 * whatever a command started, not only bash.
 */
export class ShellSession {
  private readonly child: ChildProcessWithoutNullStreams;
  private stdout = "";
  private stderrText = "";
  private ended = false;

  constructor(cwd: string, env: NodeJS.ProcessEnv) {
    this.child = spawn("bash", ["--noprofile", "--norc", "-o", "pipefail"], { cwd, env, detached: true, stdio: "pipe" });
    this.child.stdout.setEncoding("utf8").on("data", (chunk: string) => (this.stdout += chunk));
    this.child.stderr.setEncoding("utf8").on("data", (chunk: string) => (this.stderrText += chunk));
    this.child.once("exit", () => (this.ended = true));
  }

  stderr(): string {
    return this.stderrText;
  }

  /** Runs `command`; resolves with what it printed (trailing newlines dropped) and its exit status. */
  async run(command: string, timeoutMs = 60_000): Promise<{ output: string; status: number }> {
    this.stdout = "";
    this.child.stdin.write(`${command}\nprintf '\\n${separator}%d\\n' $?\n`);
    const done = new RegExp(`\\n${separator}(\\d+)\\n$`);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const match = done.exec(this.stdout);
      if (match) return { output: this.stdout.slice(0, match.index).trimEnd(), status: Number(match[1]) };
      if (this.ended) throw new Error(`bash ended while running: ${command}`);
      if (Date.now() > deadline) throw new Error(`no answer within ${timeoutMs} ms from: ${command}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  close(): void {
    try {
      process.kill(-this.child.pid!, "SIGKILL");
    } catch {
      // Already gone.
    }
  }
}
