import { execFile } from "node:child_process";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startStack, type Stack } from "../harness/services.js";
import { signToken, testAudience, testIssuer, testSecret } from "../support/tokens.js";
import { chartDir, root } from "./helm.js";

const run = promisify(execFile);

interface Outcome {
  readonly code: number;
  readonly output: string;
}

async function outcome(command: string, args: string[], env: Record<string, string>): Promise<Outcome> {
  try {
    const { stdout, stderr } = await run(command, args, { env: { PATH: process.env.PATH ?? "", ...env }, timeout: 30_000 });
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? -1, output: (failed.stdout ?? "") + (failed.stderr ?? "") };
  }
}

/** The `helm test` pod's command, run with this machine's node. */
const helmTest = (edgeUrl: string, env: Record<string, string> = {}) =>
  outcome(process.execPath, [join(chartDir, "files/send-pull-test.mjs")], { EDGE_URL: edgeUrl, TEST_TIMEOUT_MS: "3000", ...env });

/** The kind smoke test, pointed at a base URL. */
const smokeTest = (baseUrl: string, timeoutSeconds = 3) =>
  outcome("bash", [join(root, "k8s/smoke-test.sh"), baseUrl], { SMOKE_TIMEOUT_SECONDS: String(timeoutSeconds) });

/** An API that accepts every send and always pulls back a message nobody sent. */
function forgetfulApi(): Promise<Server> {
  const server = createServer((request, response) => {
    response.setHeader("content-type", "application/json");
    if (request.url === "/ping") response.end(JSON.stringify({ message: "pong" }));
    else if (request.url?.startsWith("/api/send")) response.end(JSON.stringify({ status: "success", message: {} }));
    else response.end(JSON.stringify({ messages: [{ chat: "a:b", text: "something else", sender: "a", send_time: 1 }], has_more: false, next_cursor: 0 }));
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

describe("the deployment's end-to-end checks", () => {
  let stack: Stack;
  let forgetful: Server;
  let forgetfulUrl: string;

  beforeAll(async () => {
    stack = await startStack({}); // the in-memory engine: these checks exercise the API, not Redis
    forgetful = await forgetfulApi();
    forgetfulUrl = `http://127.0.0.1:${(forgetful.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await stack?.stop();
    await new Promise((resolve) => forgetful?.close(resolve));
  });

  it("helm test script: passes against a working edge", async () => {
    const result = await helmTest(stack.edge.url);
    expect(result.output).toContain("PASS: sent and pulled back");
    expect(result.code).toBe(0);
  });

  it("helm test script: fails when the message does not come back", async () => {
    const result = await helmTest(forgetfulUrl);
    expect(result.code).toBe(1);
    expect(result.output).toContain("did not return exactly the message sent");
  });

  it("helm test script: fails when auth is expected but the edge lets a send without a token through", async () => {
    const result = await helmTest(stack.edge.url, { EDGE_AUTH_MODE: "jwt" });
    expect(result.code).toBe(1);
    expect(result.output).toContain("POST /api/send without a token answered 200, not 401");
  });

  it("smoke test: passes against a working edge", async () => {
    const result = await smokeTest(stack.edge.url);
    expect(result.output).toContain("smoke test passed");
    expect(result.code).toBe(0);
  });

  it("smoke test: fails when the message does not come back", async () => {
    const result = await smokeTest(forgetfulUrl);
    expect(result.code).not.toBe(0);
    expect(result.output).toContain("GET /api/pull did not return the message");
  });

  it("smoke test: fails when nothing answers", async () => {
    const result = await smokeTest("http://127.0.0.1:1", 1);
    expect(result.code).not.toBe(0);
    expect(result.output).toContain("smoke test FAILED");
  });
});

describe("the helm test script against an edge that requires tokens", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack(
      { AUTH_REQUIRE_USER: "true" },
      { AUTH_MODE: "jwt", AUTH_ISSUER: testIssuer, AUTH_AUDIENCE: testAudience, AUTH_JWT_SECRET: testSecret },
    );
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it("without a token: checks /ping and that a tokenless send is refused, and says it skipped the rest", async () => {
    const result = await helmTest(stack.edge.url, { EDGE_AUTH_MODE: "jwt" });
    expect(result.output).toContain("SKIP: send and pull need a bearer token");
    expect(result.output).toContain("PASS: /ping answers and a send without a token is refused (401)");
    expect(result.code).toBe(0);
  });

  it("with a token: sends and pulls back as the token's subject", async () => {
    const result = await helmTest(stack.edge.url, { EDGE_AUTH_MODE: "jwt", EDGE_TOKEN: await signToken("helm-probe") });
    expect(result.output).toMatch(/PASS: sent and pulled back ".*" in chat helm-probe:run-/);
    expect(result.code).toBe(0);
  });

  it("with a token the edge rejects: fails, naming the answer", async () => {
    const expired = await signToken("helm-probe", { exp: Math.floor(Date.now() / 1000) - 3600 });
    const result = await helmTest(stack.edge.url, { EDGE_AUTH_MODE: "jwt", EDGE_TOKEN: expired });
    expect(result.code).toBe(1);
    expect(result.output).toContain("POST /api/send answered 401");
  });

  it("in mode none against this edge: fails, since the send is refused", async () => {
    const result = await helmTest(stack.edge.url);
    expect(result.code).toBe(1);
    expect(result.output).toContain("POST /api/send answered 401");
  });
});
