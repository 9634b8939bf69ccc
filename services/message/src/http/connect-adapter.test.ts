import * as http from "node:http";
import { Code, ConnectError, createClient, createContextKey, type HandlerContext, type Interceptor, type ServiceImpl } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { MessageService } from "@chat/proto";
import { listen } from "@chat/runtime";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectAdapter } from "./connect-adapter.js";
import { createDualProtocolServer } from "./dual-protocol.js";

const tag = createContextKey("untagged", { description: "tag" });
/** What the implementation saw of each call, by the text or chat it names. */
const seen = new Map<string, HandlerContext>();

// An interceptor that uses what Connect gives one: context values, real Headers both ways.
const interceptor: Interceptor = (next) => async (request) => {
  request.contextValues.set(tag, `tagged ${request.method.name}`);
  request.header.append("x-seen-by", "interceptor");
  const response = await next(request);
  response.header.set("x-interceptor", "was here");
  response.trailer.append("x-trailer", "from the interceptor");
  return response;
};

const impl: Partial<ServiceImpl<typeof MessageService>> = {
  send(request, context) {
    seen.set(request.text, context);
    context.responseHeader.set("x-answer", `to ${request.text}`);
    return { message: { chat: request.chat, sender: request.sender, text: `${request.text}|${context.values.get(tag)}|${context.requestHeader.get("x-seen-by")}` } };
  },
  async pull(request, context) {
    seen.set(request.chat, context);
    await new Promise((resolve) => context.signal.addEventListener("abort", resolve, { once: true }));
    throw new ConnectError("gone", Code.Aborted);
  },
  listChats() {
    throw new ConnectError("no such member", Code.NotFound, { "x-why": "because" });
  },
};

describe("the message service's Connect adapter", () => {
  let url: string;
  let server: ReturnType<typeof createDualProtocolServer>;
  beforeAll(async () => {
    const handler = connectAdapter({
      routes: (router) => router.service(MessageService, impl),
      interceptors: [interceptor],
      readMaxBytes: 1024 * 1024,
      fallback: (_request, response) => {
        response.writeHead(404);
        response.end();
      },
      onError: () => {},
    });
    server = createDualProtocolServer(handler, { headersTimeoutMs: 10_000, requestTimeoutMs: 30_000, idleTimeoutMs: 65_000 });
    url = await listen(server.listener, 0, "127.0.0.1");
  });
  afterAll(() => {
    server.http1.closeAllConnections();
    server.listener.close();
  });

  // Binary Connect over HTTP/1.1 is what the edge sends: every feature must hold there too.
  const transports = [
    ["binary Connect over HTTP/1.1 (the edge's calls)", () => createConnectTransport({ baseUrl: url, httpVersion: "1.1", useBinaryFormat: true })],
    ["gRPC over h2c", () => createGrpcTransport({ baseUrl: url })],
  ] as const;

  it.each(transports)("gives interceptors and the implementation Connect's context over %s", async (_name, transport) => {
    let header: Headers | undefined;
    let trailer: Headers | undefined;
    const text = `hello ${_name}`;
    const { message } = await createClient(MessageService, transport()).send(
      { chat: "a:b", sender: "a", text },
      { timeoutMs: 5_000, onHeader: (value) => (header = value), onTrailer: (value) => (trailer = value) },
    );
    expect(message?.text).toBe(`${text}|tagged Send|interceptor`);
    expect([header?.get("x-answer"), header?.get("x-interceptor") ?? trailer?.get("x-interceptor"), trailer?.get("x-trailer")]).toEqual([
      `to ${text}`,
      "was here",
      "from the interceptor",
    ]);
    const context = seen.get(text)!;
    expect(context.timeoutMs()).toBeGreaterThan(4_000);
    expect(context.timeoutMs()).toBeLessThanOrEqual(5_000);
    expect(context.protocolName).toBe(_name.startsWith("gRPC") ? "grpc" : "connect");
  });

  it("answers errors with their code, message and metadata", async () => {
    const client = createClient(MessageService, transports[0][1]());
    const error = await client.listChats({ member: "m" }).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: Code.NotFound, rawMessage: "no such member" });
    expect((error as ConnectError).metadata.get("x-why")).toBe("because");
  });

  it("aborts the call's signal when its deadline passes", async () => {
    const client = createClient(MessageService, transports[0][1]());
    await expect(client.pull({ chat: "deadline:x" }, { timeoutMs: 200 })).rejects.toMatchObject({ code: Code.DeadlineExceeded });
    await expect.poll(() => seen.get("deadline:x")?.signal.aborted, { timeout: 2_000 }).toBe(true);
  });

  it("aborts the call's signal when its caller hangs up", async () => {
    const request = http.request(`${url}/chat.v1.MessageService/Pull`, { method: "POST", headers: { "content-type": "application/json" } });
    request.on("error", () => {});
    request.end(JSON.stringify({ chat: "hangup:x" }));
    await expect.poll(() => seen.has("hangup:x"), { timeout: 2_000 }).toBe(true);
    expect(seen.get("hangup:x")!.signal.aborted).toBe(false);
    request.destroy();
    await expect.poll(() => seen.get("hangup:x")!.signal.aborted, { timeout: 2_000 }).toBe(true);
  });

  it("answers a binary body that does not decode as the caller's mistake (400 invalid_argument), not a server fault", async () => {
    const reply = await fetch(`${url}/chat.v1.MessageService/Send`, {
      method: "POST",
      headers: { "content-type": "application/proto" },
      body: new Uint8Array([0xff, 0xff, 0xff]),
    });
    expect(reply.status).toBe(400);
    expect(await reply.json()).toMatchObject({ code: "invalid_argument", message: expect.stringMatching(/^cannot decode the request: parse binary/) });
  });
});
