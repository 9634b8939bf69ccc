import * as http from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import { Code, ConnectError, createClient, createContextKey, createContextValues, type HandlerContext, type Interceptor, type ServiceImpl } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { MessageService } from "@chat/proto";
import { listen } from "@chat/runtime";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createNodeHttp1Transport } from "./http1-transport.js";

/** What the service saw of each call, by the text or chat it names. */
const seen = new Map<string, HandlerContext>();

async function untilAborted(context: HandlerContext): Promise<never> {
  await new Promise((resolve) => context.signal.addEventListener("abort", resolve, { once: true }));
  throw new ConnectError("aborted", Code.Aborted);
}

// A stock Connect server (connect-node's adapter): the transport must speak its protocol.
const impl: Partial<ServiceImpl<typeof MessageService>> = {
  send(request, context) {
    seen.set(request.text, context);
    context.responseHeader.set("x-answer", `to ${request.text}`);
    context.responseTrailer.set("x-trailer", `after ${request.text}`);
    return { message: { chat: request.chat, sender: request.sender, text: `${request.text}|${context.requestHeader.get("x-in") ?? ""}` } };
  },
  pull(request, context) {
    seen.set(request.chat, context);
    return untilAborted(context);
  },
  listChats() {
    throw new ConnectError("no such member", Code.NotFound, { "x-why": "because" });
  },
  async *subscribe(request, context) {
    for (let i = 0; i < 3; i++) {
      yield { resumeToken: `t${i}`, event: { case: "heartbeat", value: {} } };
      await sleep(5, undefined, { signal: context.signal });
    }
  },
};

describe("the HTTP/1.1 Connect transport", () => {
  let server: http.Server;
  let url: string;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
  beforeAll(async () => {
    server = http.createServer(connectNodeAdapter({ routes: (router) => router.service(MessageService, impl) }));
    url = await listen(server, 0, "127.0.0.1");
  });
  afterAll(() => {
    agent.destroy();
    server.closeAllConnections();
    server.close();
  });
  const client = (interceptors: Interceptor[] = []) => createClient(MessageService, createNodeHttp1Transport({ baseUrl: url, agent, interceptors }));

  it("runs interceptors as Connect does: real headers, context values, the response's header and trailer", async () => {
    const tag = createContextKey("none", { description: "tag" });
    const observed: Record<string, unknown> = {};
    const interceptor: Interceptor = (next) => async (request) => {
      expect(request.header).toBeInstanceOf(Headers);
      observed.url = request.url;
      observed.tag = request.contextValues.get(tag);
      request.header.set("x-in", "set");
      request.header.append("x-in", "appended");
      request.header.delete("x-gone");
      const response = await next(request);
      if (response.stream) throw new Error("a unary call answered a stream");
      observed.answer = response.header.get("x-answer");
      observed.trailer = response.trailer.get("x-trailer");
      return response;
    };
    let header: Headers | undefined;
    let trailer: Headers | undefined;
    const { message } = await client([interceptor]).send(
      { chat: "a:b", sender: "a", text: "hello" },
      {
        headers: { "x-gone": "1" },
        contextValues: createContextValues().set(tag, "mine"),
        onHeader: (value) => (header = value),
        onTrailer: (value) => (trailer = value),
      },
    );
    expect(message?.text).toBe("hello|set, appended");
    expect(seen.get("hello")!.requestHeader.get("x-gone")).toBeNull();
    expect(observed).toEqual({ url: `${url}/chat.v1.MessageService/Send`, tag: "mine", answer: "to hello", trailer: "after hello" });
    expect([header?.get("x-answer"), trailer?.get("x-trailer")]).toEqual(["to hello", "after hello"]);
  });

  it("gives each of many concurrent calls its own response headers", async () => {
    const texts = Array.from({ length: 40 }, (_, i) => `c${i}`);
    const answers = await Promise.all(
      texts.map(async (text) => {
        let header: Headers | undefined;
        await client().send({ chat: "a:b", sender: "a", text }, { onHeader: (value) => (header = value) });
        return header?.get("x-answer");
      }),
    );
    expect(answers).toEqual(texts.map((text) => `to ${text}`));
  });

  it("sends the deadline, fails the call with DeadlineExceeded when it passes, and the server's call ends too", async () => {
    const started = Date.now();
    const error = await client()
      .pull({ chat: "deadline:x" }, { timeoutMs: 150 })
      .catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: Code.DeadlineExceeded });
    expect(Date.now() - started).toBeLessThan(2_000);
    const context = seen.get("deadline:x")!;
    expect(context.requestHeader.get("connect-timeout-ms")).toBe("150");
    await expect.poll(() => context.signal.aborted, { timeout: 2_000 }).toBe(true);
  });

  it("cancels the call when its signal is aborted, and the server's call sees its caller go", async () => {
    const controller = new AbortController();
    const call = client().pull({ chat: "cancel:x" }, { signal: controller.signal });
    await expect.poll(() => seen.has("cancel:x"), { timeout: 2_000 }).toBe(true);
    controller.abort();
    await expect(call).rejects.toMatchObject({ code: Code.Canceled });
    await expect.poll(() => seen.get("cancel:x")!.signal.aborted, { timeout: 2_000 }).toBe(true);
  });

  it("answers the service's errors with their code, message and metadata", async () => {
    const error = await client()
      .listChats({ member: "m" })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ConnectError);
    expect(error).toMatchObject({ code: Code.NotFound, rawMessage: "no such member" });
    expect((error as ConnectError).metadata.get("x-why")).toBe("because");
  });

  it("reports a service that cannot be reached as Unavailable, which callers retry", async () => {
    const closed = http.createServer();
    const closedUrl = await listen(closed, 0, "127.0.0.1");
    await new Promise((resolve) => closed.close(resolve));
    const unreachable = createClient(MessageService, createNodeHttp1Transport({ baseUrl: closedUrl, agent, interceptors: [] }));
    await expect(unreachable.send({ chat: "a:b", sender: "a", text: "x" })).rejects.toMatchObject({ code: Code.Unavailable });
  });

  it("streams a server-streaming call's messages as they come", async () => {
    const tokens: string[] = [];
    for await (const response of client().subscribe({ chats: [{ chat: "a:b" }] })) tokens.push(response.resumeToken);
    expect(tokens).toEqual(["t0", "t1", "t2"]);
  });
});
