import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { MessageService } from "@chat/proto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../harness/ports.js";
import { waitFor } from "../harness/wait.js";
import { restClient, type RestClient } from "../support/http.js";
import { uniqueChat } from "../support/ids.js";
import { bearer, signToken, testAudience, testIssuer, testSecret } from "../support/tokens.js";

const root = fileURLToPath(new URL("../../", import.meta.url));

describe("make run with AUTH_MODE=jwt", () => {
  let make: ChildProcess;
  let output = "";
  let edgeUrl: string;
  let messageUrl: string;
  let api: RestClient;

  beforeAll(async () => {
    const [edgePort, messagePort] = [await freePort(), await freePort()];
    edgeUrl = `http://127.0.0.1:${edgePort}`;
    messageUrl = `http://127.0.0.1:${messagePort}`;
    // `-o build`: the suite runs on a build already made; a rebuild under running tests helps no one.
    const args = ["-o", "build", "run", `EDGE_PORT=${edgePort}`, `MESSAGE_PORT=${messagePort}`, "AUTH_MODE=jwt"];
    make = spawn("make", args, {
      cwd: root,
      // Its own process group, so the test can stop make and both services it started.
      detached: true,
      env: { ...process.env, HOST: "127.0.0.1", METRICS_PORT: "0", AUTH_ISSUER: testIssuer, AUTH_AUDIENCE: testAudience, AUTH_JWT_SECRET: testSecret },
      stdio: ["ignore", "pipe", "pipe"],
    });
    make.stdout!.on("data", (chunk: Buffer) => (output += chunk));
    make.stderr!.on("data", (chunk: Buffer) => (output += chunk));
    api = restClient(edgeUrl);
    await waitFor("make run to serve the edge", async () => (await api.call("GET", "/ping")).status === 200, { timeoutMs: 30_000, intervalMs: 200 });
    // The two processes start side by side: the edge may listen before the message service does.
    const ready = async () => (await fetch(`${messageUrl}/readyz`).catch(() => undefined))?.status === 200;
    await waitFor("make run to serve the message service", ready, { timeoutMs: 30_000, intervalMs: 200 });
  });
  afterAll(async () => {
    await api?.close();
    if (make?.pid !== undefined && make.exitCode === null) {
      const exited = new Promise((resolve) => make.once("exit", resolve));
      process.kill(-make.pid, "SIGTERM");
      await exited;
    }
  });

  it("sets up caller authentication by itself: a user's send succeeds through the edge, a direct call without the edge's credential is refused", async () => {
    const { a, b, chat } = uniqueChat();
    const sent = await api.call("POST", "/api/send", { json: { chat, text: "via make run", sender: a }, headers: bearer(await signToken(a)) });
    expect({ status: sent.status, output: sent.status === 200 ? "" : output }).toEqual({ status: 200, output: "" });
    const pulled = await api.call("GET", "/api/pull", { json: { chat }, headers: bearer(await signToken(b)) });
    expect(pulled.body.messages.map((m: { text: string }) => m.text)).toEqual(["via make run"]);

    const direct = createClient(MessageService, createConnectTransport({ baseUrl: messageUrl, httpVersion: "1.1" }));
    const refused = await direct.pull({ chat }, { headers: { "chat-user": b } }).then(
      () => undefined,
      (error: unknown) => ConnectError.from(error).code,
    );
    expect(refused).toBe(Code.Unauthenticated);
  });
});
