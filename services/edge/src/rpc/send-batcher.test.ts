import { setTimeout as sleep } from "node:timers/promises";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, createRouterTransport, type CallOptions, type HandlerContext, type Interceptor, type ServiceImpl } from "@connectrpc/connect";
import { MessageSchema, MessageService, SendErrorSchema, type SendBatchRequest, type SendBatchResult } from "@chat/proto";
import { describe, expect, it } from "vitest";
import { SendBatcher, type SendBatcherOptions } from "./send-batcher.js";

type Impl = Partial<ServiceImpl<typeof MessageService>>;

interface SeenBatch {
  readonly request: SendBatchRequest;
  readonly timeoutMs: number | undefined;
  readonly context: HandlerContext;
}

/**
 * A batcher over a real Connect client whose transport runs `impl` in-process (Connect's
 * router transport): SendBatch answers each item by `answer` after `delayMs`, and every
 * call it receives is recorded.
 */
function batcherOver(
  answer: (text: string) => SendBatchResult["result"],
  options: { delayMs?: number; impl?: Impl; interceptors?: Interceptor[]; batch?: Partial<SendBatcherOptions> } = {},
) {
  const calls: SeenBatch[] = [];
  const impl: Impl = {
    async sendBatch(request, context) {
      calls.push({ request, timeoutMs: context.timeoutMs(), context });
      await sleep(options.delayMs ?? 0, undefined, { signal: context.signal });
      return { results: request.items.map((item) => ({ result: answer(item.request!.text) })) };
    },
    ...options.impl,
  };
  const client = createClient(MessageService, createRouterTransport((router) => router.service(MessageService, impl)));
  const batcher = new SendBatcher(client, options.interceptors ?? [], {
    maxItems: 64,
    maxBytes: 1 << 20,
    baseUrl: "http://message.test",
    ...options.batch,
  });
  return { batcher, calls };
}

const stored = (text: string): SendBatchResult["result"] => ({ case: "message", value: create(MessageSchema, { chat: "a:b", text, sender: "a", sendTime: 1n }) });
const send = (batcher: SendBatcher, text: string, callOptions: CallOptions = { timeoutMs: 1_000 }) => batcher.send({ chat: "a:b", sender: "a", text }, callOptions);

describe("SendBatcher", () => {
  it("sends what arrives in one turn in one call, in order, and answers each send its own result", async () => {
    const { batcher, calls } = batcherOver(stored);
    const replies = await Promise.all(["one", "two", "three"].map((text) => send(batcher, text)));
    expect(replies.map((reply) => reply.message?.text)).toEqual(["one", "two", "three"]);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.request.items.map((item) => item.request!.text)).toEqual(["one", "two", "three"]);
    // A send in a later turn goes in a call of its own.
    await send(batcher, "later");
    expect(calls).toHaveLength(2);
  });

  it("starts a new call at maxItems and before maxBytes would be passed", async () => {
    const byCount = batcherOver(stored, { batch: { maxItems: 2 } });
    await Promise.all(["1", "2", "3", "4", "5"].map((text) => send(byCount.batcher, text)));
    expect(byCount.calls.map((call) => call.request.items.length)).toEqual([2, 2, 1]);

    const bySize = batcherOver(stored, { batch: { maxBytes: 1_000 } });
    await Promise.all(["x".repeat(200), "y".repeat(200), "z".repeat(200)].map((text) => send(bySize.batcher, text)));
    expect(bySize.calls.map((call) => call.request.items.length)).toEqual([1, 1, 1]);
  });

  it("fails only the sends whose items failed, with their own codes", async () => {
    const { batcher } = batcherOver((text) =>
      text === "bad" ? { case: "error", value: create(SendErrorSchema, { code: Code.PermissionDenied, message: "not yours" }) } : stored(text),
    );
    const [good, bad] = await Promise.allSettled([send(batcher, "good"), send(batcher, "bad")]);
    expect(good).toMatchObject({ status: "fulfilled", value: { message: { text: "good" } } });
    expect(bad).toMatchObject({ status: "rejected", reason: { code: Code.PermissionDenied, rawMessage: "not yours" } });
  });

  it("fails every send of a failed call with the call's error, so each may be retried", async () => {
    const { batcher } = batcherOver(stored, {
      impl: {
        sendBatch() {
          throw new ConnectError("connection refused", Code.Unavailable);
        },
      },
    });
    const results = await Promise.allSettled([send(batcher, "a"), send(batcher, "b")]);
    expect(results.map((result) => result.status === "rejected" && ConnectError.from(result.reason).code)).toEqual([Code.Unavailable, Code.Unavailable]);
  });

  it("keeps each send's own deadline, and gives the call the longest", async () => {
    const { batcher, calls } = batcherOver(stored, { delayMs: 200 });
    const [short, long] = await Promise.allSettled([send(batcher, "short", { timeoutMs: 20 }), send(batcher, "long", { timeoutMs: 2_000 })]);
    expect(short).toMatchObject({ status: "rejected", reason: { code: Code.DeadlineExceeded } });
    expect(long).toMatchObject({ status: "fulfilled", value: { message: { text: "long" } } });
    // What the service sees: the longest deadline, less the moment the batch waited.
    expect(calls[0]!.timeoutMs).toBeGreaterThan(1_900);
    expect(calls[0]!.timeoutMs).toBeLessThanOrEqual(2_000);
  });

  it("leaves a send out of its batch when its caller gives up before the batch leaves", async () => {
    const { batcher, calls } = batcherOver(stored);
    const gone = new AbortController();
    const sends = [send(batcher, "stays"), send(batcher, "goes", { timeoutMs: 1_000, signal: gone.signal })];
    gone.abort();
    const [stays, goes] = await Promise.allSettled(sends);
    expect(stays).toMatchObject({ status: "fulfilled", value: { message: { text: "stays" } } });
    expect(goes).toMatchObject({ status: "rejected", reason: { code: Code.Canceled } });
    expect(calls.map((call) => call.request.items.map((item) => item.request!.text))).toEqual([["stays"]]);
  });

  it("cancels the batch call once every one of its sends has been given up", async () => {
    const { batcher, calls } = batcherOver(stored, { delayMs: 5_000 });
    const gone = new AbortController();
    const sends = Promise.allSettled([
      send(batcher, "one", { timeoutMs: 10_000, signal: gone.signal }),
      send(batcher, "two", { timeoutMs: 10_000, signal: gone.signal }),
    ]);
    // Once the batch is at the service, both callers go away.
    while (calls.length === 0) await sleep(1);
    gone.abort();
    const results = await sends;
    expect(results.map((result) => result.status === "rejected" && ConnectError.from(result.reason).code)).toEqual([Code.Canceled, Code.Canceled]);
    expect(calls[0]!.context.signal.aborted).toBe(true);
  });

  it("carries each send's user and trace context in its item, and runs each send through the interceptors", async () => {
    const seen: { method: string; url: string; contextValues: boolean }[] = [];
    const { batcher, calls } = batcherOver(stored, {
      interceptors: [
        (next) => async (request) => {
          seen.push({ method: request.method.name, url: request.url, contextValues: request.contextValues !== undefined });
          request.header.set("traceparent", `00-${"1".repeat(32)}-${"2".repeat(16)}-01`);
          request.header.delete("x-dropped");
          return next(request);
        },
      ],
    });
    await Promise.all([send(batcher, "as alice", { timeoutMs: 1_000, headers: { "chat-user": "alice", "x-dropped": "1" } }), send(batcher, "anonymous")]);
    expect(seen).toEqual([
      { method: "Send", url: "http://message.test/chat.v1.MessageService/Send", contextValues: true },
      { method: "Send", url: "http://message.test/chat.v1.MessageService/Send", contextValues: true },
    ]);
    expect(calls[0]!.request.items.map(({ user, traceparent }) => ({ user, traceparent }))).toEqual([
      { user: "alice", traceparent: `00-${"1".repeat(32)}-${"2".repeat(16)}-01` },
      { user: "", traceparent: `00-${"1".repeat(32)}-${"2".repeat(16)}-01` },
    ]);
  });

  it("sends each message in a Send call of its own, with its headers, to a service without SendBatch", async () => {
    const sent: { text: string; user: string | null; timeoutMs: number | undefined }[] = [];
    const { batcher } = batcherOver(stored, {
      impl: {
        sendBatch() {
          throw new ConnectError("unknown method", Code.Unimplemented);
        },
        send(request, context) {
          sent.push({ text: request.text, user: context.requestHeader.get("chat-user"), timeoutMs: context.timeoutMs() });
          return { message: { chat: request.chat, text: request.text, sender: request.sender } };
        },
      },
    });
    const replies = await Promise.all([send(batcher, "one", { timeoutMs: 700, headers: { "chat-user": "alice" } }), send(batcher, "two")]);
    expect(replies.map((reply) => reply.message?.text)).toEqual(["one", "two"]);
    expect(sent.map(({ text, user }) => ({ text, user }))).toEqual([
      { text: "one", user: "alice" },
      { text: "two", user: null },
    ]);
    expect(sent[0]!.timeoutMs).toBeLessThanOrEqual(700);
    expect(sent[1]!.timeoutMs).toBeGreaterThan(700);
  });
});
