import { setTimeout as sleep } from "node:timers/promises";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import type { SendBatchRequestSchema, SendBatchResponse, SendResponse } from "@chat/proto";
import { describe, expect, it } from "vitest";
import type { CallOptions, RpcClient } from "./rpc-client.js";
import { SendBatcher } from "./send-batcher.js";

type BatchRequest = MessageInitShape<typeof SendBatchRequestSchema>;

/** Records every SendBatch call and answers each item by `answer`, after `delayMs`. */
function recordingClient(answer: (text: string) => SendBatchResponse["results"][number]["result"], delayMs = 0) {
  const calls: { request: BatchRequest; options: CallOptions }[] = [];
  const client = {
    async sendBatch(request: BatchRequest, options: CallOptions) {
      calls.push({ request, options });
      await sleep(delayMs);
      return { results: (request.items ?? []).map((item) => ({ result: answer(item.request!.text!) })) } as unknown as SendBatchResponse;
    },
  } as RpcClient;
  return { client, calls };
}

const stored = (text: string) => ({ case: "message" as const, value: { chat: "a:b", text, sender: "a", sendTime: 1n } as never });
const options: CallOptions = { timeoutMs: 1_000 };
const send = (batcher: SendBatcher, text: string, callOptions = options) => batcher.send({ chat: "a:b", sender: "a", text }, callOptions);

describe("SendBatcher", () => {
  it("sends what arrives in one turn in one call, in order, and answers each send its own result", async () => {
    const { client, calls } = recordingClient(stored);
    const batcher = new SendBatcher(client, [], { maxItems: 64, maxBytes: 1 << 20 });
    const replies = await Promise.all(["one", "two", "three"].map((text) => send(batcher, text)));
    expect(replies.map((reply) => reply.message?.text)).toEqual(["one", "two", "three"]);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.request.items!.map((item) => item.request!.text)).toEqual(["one", "two", "three"]);
    // A send in a later turn goes in a call of its own.
    await send(batcher, "later");
    expect(calls).toHaveLength(2);
  });

  it("starts a new call at maxItems and before maxBytes would be passed", async () => {
    const { client, calls } = recordingClient(stored);
    const byCount = new SendBatcher(client, [], { maxItems: 2, maxBytes: 1 << 20 });
    await Promise.all(["1", "2", "3", "4", "5"].map((text) => send(byCount, text)));
    expect(calls.map((call) => call.request.items!.length)).toEqual([2, 2, 1]);

    calls.length = 0;
    const bySize = new SendBatcher(client, [], { maxItems: 64, maxBytes: 1_000 });
    await Promise.all(["x".repeat(200), "y".repeat(200), "z".repeat(200)].map((text) => send(bySize, text)));
    expect(calls.map((call) => call.request.items!.length)).toEqual([1, 1, 1]);
  });

  it("fails only the sends whose items failed, with their own codes", async () => {
    const { client } = recordingClient((text) =>
      text === "bad" ? { case: "error", value: { code: Code.PermissionDenied, message: "not yours" } as never } : stored(text),
    );
    const batcher = new SendBatcher(client, [], { maxItems: 64, maxBytes: 1 << 20 });
    const [good, bad] = await Promise.allSettled([send(batcher, "good"), send(batcher, "bad")]);
    expect(good).toMatchObject({ status: "fulfilled", value: { message: { text: "good" } } });
    expect(bad).toMatchObject({ status: "rejected", reason: { code: Code.PermissionDenied, rawMessage: "not yours" } });
  });

  it("fails every send of a failed call with the call's error, so each may be retried", async () => {
    const client = {
      sendBatch: () => Promise.reject(new ConnectError("connection refused", Code.Unavailable)),
    } as unknown as RpcClient;
    const batcher = new SendBatcher(client, [], { maxItems: 64, maxBytes: 1 << 20 });
    const results = await Promise.allSettled([send(batcher, "a"), send(batcher, "b")]);
    expect(results.map((result) => result.status === "rejected" && ConnectError.from(result.reason).code)).toEqual([
      Code.Unavailable,
      Code.Unavailable,
    ]);
  });

  it("keeps each send's own deadline, and gives the call the longest", async () => {
    const { client, calls } = recordingClient(stored, 200);
    const batcher = new SendBatcher(client, [], { maxItems: 64, maxBytes: 1 << 20 });
    const [short, long] = await Promise.allSettled([send(batcher, "short", { timeoutMs: 20 }), send(batcher, "long", { timeoutMs: 2_000 })]);
    expect(short).toMatchObject({ status: "rejected", reason: { code: Code.DeadlineExceeded } });
    expect(long).toMatchObject({ status: "fulfilled", value: { message: { text: "long" } } });
    expect(calls[0]!.options.timeoutMs).toBe(2_000);
  });

  it("carries each send's user and trace context in its item, and runs each send through the interceptors", async () => {
    const { client, calls } = recordingClient(stored);
    const seen: string[] = [];
    const batcher = new SendBatcher(
      client,
      [
        (next) => async (request) => {
          seen.push(request.method.name);
          request.header.set("traceparent", `00-${"1".repeat(32)}-${"2".repeat(16)}-01`);
          return next(request);
        },
      ],
      { maxItems: 64, maxBytes: 1 << 20 },
    );
    await Promise.all([
      send(batcher, "as alice", { timeoutMs: 1_000, headers: { "chat-user": "alice" } }),
      send(batcher, "anonymous"),
    ]);
    expect(seen).toEqual(["Send", "Send"]);
    expect(calls[0]!.request.items!.map(({ user, traceparent }) => ({ user, traceparent }))).toEqual([
      { user: "alice", traceparent: `00-${"1".repeat(32)}-${"2".repeat(16)}-01` },
      { user: "", traceparent: `00-${"1".repeat(32)}-${"2".repeat(16)}-01` },
    ]);
  });

  it("sends each message in a Send call of its own, with its headers, to a service without SendBatch", async () => {
    const sent: { text: string; options: CallOptions }[] = [];
    const client = {
      sendBatch: () => Promise.reject(new ConnectError("unknown method", Code.Unimplemented)),
      async send(request: { text?: string }, callOptions: CallOptions) {
        sent.push({ text: request.text!, options: callOptions });
        return { message: { text: request.text } } as unknown as SendResponse;
      },
    } as unknown as RpcClient;
    const batcher = new SendBatcher(client, [], { maxItems: 64, maxBytes: 1 << 20 });
    const replies = await Promise.all([
      send(batcher, "one", { timeoutMs: 700, headers: { "chat-user": "alice" } }),
      send(batcher, "two"),
    ]);
    expect(replies.map((reply) => reply.message?.text)).toEqual(["one", "two"]);
    expect(sent).toEqual([
      { text: "one", options: { timeoutMs: 700, headers: { "chat-user": "alice" } } },
      { text: "two", options: { timeoutMs: 1_000, headers: {} } },
    ]);
  });
});
