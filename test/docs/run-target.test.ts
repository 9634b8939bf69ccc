import { spawn, spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { freePort } from "../harness/ports.js";
import { waitFor } from "../harness/wait.js";
import { freshEnvironment, repositoryRoot, startLocalStack } from "./local-stack.js";

/** JSON log lines among make's output. */
function logLines(output: string): Record<string, unknown>[] {
  return output.split(/\r?\n/).flatMap((line) => {
    try {
      const value: unknown = JSON.parse(line);
      return value !== null && typeof value === "object" ? [value as Record<string, unknown>] : [];
    } catch {
      return [];
    }
  });
}

function expectBothStopped(output: string): void {
  const stopped = logLines(output).filter((line) => line.msg === "stopped").map((line) => line.service);
  expect(stopped.sort()).toEqual(["chat-edge", "chat-message"]);
  expect(output).not.toMatch(/make: \*\*\*/);
}

// The README tells a newcomer to stop `make run` with Ctrl-C; supervisors send SIGTERM.
describe("make run", () => {
  it("stops both services cleanly on Ctrl-C (SIGINT to its process group), with no make error", { timeout: 120_000 }, async () => {
    const stack = await startLocalStack("run");
    const stopped = await stack.stop("SIGINT", "group");
    expectBothStopped(stack.output());
    expect(stopped.leftOver).toBe(false);
  });

  it("stops both services cleanly when make gets SIGTERM, with no make error", { timeout: 120_000 }, async () => {
    const stack = await startLocalStack("run");
    const stopped = await stack.stop("SIGTERM", "make");
    expectBothStopped(stack.output());
    expect(stopped.leftOver).toBe(false);
  });

  const hasScript = spawnSync("script", ["--version"]).status === 0;
  it.skipIf(!hasScript)("prints one readable line per event when stdout is a terminal", { timeout: 120_000 }, async () => {
    const [edge, message] = [await freePort(), await freePort()];
    const command = `make --no-print-directory -o build run EDGE_PORT=${edge} MESSAGE_PORT=${message} EDGE_METRICS_PORT=0 MESSAGE_METRICS_PORT=0`;
    // script(1) gives make a pseudo-terminal as stdout, as a terminal window would.
    const child = spawn("script", ["-qfec", command, "/dev/null"], { cwd: repositoryRoot, env: freshEnvironment(), detached: true, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
    const exit = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    try {
      await waitFor("the edge's listening line", () => output.includes("edge listening"), { timeoutMs: 90_000, intervalMs: 100 });
      await fetch(`http://127.0.0.1:${edge}/ping`);
      await waitFor("the request's line", () => /\(chat-edge\): .*request/.test(output), { timeoutMs: 10_000 });
      const plain = output.replace(/\u001b\[[0-9;]*[A-Za-z]/g, "");
      expect(plain).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO \(chat-edge\): edge listening \{"url":"http:\/\/127\.0\.0\.1:\d+"/m);
      expect(plain).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO \(chat-edge\): request \{"method":"GET","route":"\/ping","status":200,"duration_ms":[\d.]+\}\r?$/m);
      expect(logLines(plain)).toEqual([]);
    } finally {
      process.kill(-child.pid!, "SIGINT");
      await exit;
    }
  });
});
