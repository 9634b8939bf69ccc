import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from "../harness/otlp-receiver.js";
import { freePort } from "../harness/ports.js";
import { startService, startStack, type Stack } from "../harness/services.js";
import { waitFor } from "../harness/wait.js";
import { restClient, type RestClient } from "../support/http.js";
import { uniqueChat } from "../support/ids.js";
import { newTraceparent } from "../support/trace-context.js";

const SERVER = 2;
const CLIENT = 3;
const ERROR = 2;

function otlpEnv(receiver: OtlpReceiver, protocol = "http/json") {
  return {
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
    OTEL_EXPORTER_OTLP_PROTOCOL: protocol,
    OTEL_BSP_SCHEDULE_DELAY: "50",
  };
}

const isRedis = (span: ReceivedSpan) =>
  span.attributes["db.system.name"] === "redis" || span.attributes["db.system"] === "redis";

/** Whether `span` has `ancestor` above it in the same trace. */
function descendsFrom(span: ReceivedSpan, ancestor: ReceivedSpan, all: ReceivedSpan[]): boolean {
  let current: ReceivedSpan | undefined = span;
  for (let depth = 0; current && depth < 50; depth++) {
    if (current.parentSpanId === ancestor.spanId) return true;
    current = all.find((candidate) => candidate.spanId === current!.parentSpanId);
  }
  return false;
}

describe.each(["1.1", "2"] as const)("a trace across edge → message service → Redis over HTTP/%s", (httpVersion) => {
  let receiver: OtlpReceiver;
  let stack: Stack;
  let api: RestClient;

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    const env = otlpEnv(receiver);
    stack = await startStack({ REDIS_URL: inject("redisUrl"), ...env }, { RPC_HTTP_VERSION: httpVersion, ...env });
    api = restClient(stack.edge.url);
  });
  afterAll(async () => {
    await api?.close();
    await stack?.stop();
    await receiver?.close();
  });

  /** Sends one request under a fresh trace id and waits for both services' spans of it. */
  async function traced(method: string, path: string, json: unknown) {
    const { traceId, header } = newTraceparent();
    const reply = await api.call(method, path, { json, headers: { traceparent: header } });
    const spans = await waitFor(`spans of trace ${traceId} from both services`, () => {
      const found = receiver.trace(traceId);
      const services = new Set(found.map((span) => span.service));
      const hasRedis = found.some(isRedis);
      return services.has("chat-edge") && services.has("chat-message") && (hasRedis || reply.status !== 200) ? found : undefined;
    });
    return { reply, traceId, spans };
  }

  it.each([
    ["POST", "/api/send", "Send"],
    ["GET", "/api/pull", "Pull"],
  ] as const)("%s %s is one trace: edge server → RPC client → service server → Redis", async (method, path, rpcMethod) => {
    const { chat, a } = uniqueChat();
    const { reply, spans } = await traced(method, path, { chat, sender: a, text: "traced" });
    expect(reply.status).toBe(200);

    const edgeServer = spans.find((s) => s.service === "chat-edge" && s.kind === SERVER)!;
    expect(edgeServer).toBeDefined();
    expect(edgeServer.statusCode).not.toBe(ERROR);
    const rpcClient = spans.find((s) => s.service === "chat-edge" && s.kind === CLIENT && s.attributes["rpc.system"] === "connect_rpc")!;
    expect(rpcClient.attributes).toMatchObject({ "rpc.service": "chat.v1.MessageService", "rpc.method": rpcMethod });
    expect(descendsFrom(rpcClient, edgeServer, spans)).toBe(true);

    // The service's outermost span is a child of one of the edge's client spans.
    const serviceSpans = spans.filter((s) => s.service === "chat-message");
    const serviceRoot = serviceSpans.find((s) => !serviceSpans.some((other) => other.spanId === s.parentSpanId))!;
    expect(serviceRoot.kind).toBe(SERVER);
    const parent = spans.find((s) => s.spanId === serviceRoot.parentSpanId)!;
    expect(parent).toMatchObject({ service: "chat-edge", kind: CLIENT });
    expect(descendsFrom(parent, rpcClient, spans) || parent.spanId === rpcClient.spanId).toBe(true);

    const rpcServer = serviceSpans.find((s) => s.kind === SERVER && s.attributes["rpc.method"] === rpcMethod)!;
    expect(rpcServer.attributes).toMatchObject({ "rpc.system": "connect_rpc", "rpc.service": "chat.v1.MessageService" });
    const redis = serviceSpans.find(isRedis)!;
    expect(descendsFrom(redis, rpcServer, spans)).toBe(true);
    // Message text and member ids stay out of the trace.
    expect(JSON.stringify(spans)).not.toContain(a);
  });

  it("marks a rejected call as an error on the edge's RPC client span", async () => {
    const { chat } = uniqueChat();
    const { reply, spans } = await traced("POST", "/api/send", { chat, sender: "intruder", text: "x" });
    expect(reply.status).toBe(400);
    const rpcClient = spans.find((s) => s.service === "chat-edge" && s.attributes["rpc.system"] === "connect_rpc")!;
    expect(rpcClient.statusCode).toBe(ERROR);
    expect(rpcClient.attributes["rpc.connect_rpc.error_code"]).toBe("invalid_argument");
  });

  it("writes log lines that carry the active span's ids", async () => {
    const { chat, a } = uniqueChat();
    const { traceId, spans } = await traced("POST", "/api/send", { chat, sender: a, text: "logged" });
    const edgeLine = await waitFor("the edge's request log line", () =>
      stack.edge.logs.find((line) => line.msg === "request" && line.trace_id === traceId),
    );
    expect(edgeLine).toMatchObject({ method: "POST", route: "/api/send", status: 200 });
    expect(typeof edgeLine.duration_ms).toBe("number");
    expect(spans.find((s) => s.spanId === edgeLine.span_id)).toMatchObject({ service: "chat-edge", kind: SERVER });
    const serviceLine = await waitFor("the service's rpc log line", () =>
      stack.message.logs.find((line) => line.msg === "rpc" && line.trace_id === traceId),
    );
    expect(serviceLine).toMatchObject({ rpc_method: "Send", code: "ok" });
    expect(spans.find((s) => s.spanId === serviceLine.span_id)).toMatchObject({ service: "chat-message", kind: SERVER });
  });
});

describe("an event stream's trace", () => {
  it("shows its query with the access_token redacted, and a Subscribe span under the stream's request", async () => {
    const receiver = await startOtlpReceiver();
    const stack = await startStack(otlpEnv(receiver), otlpEnv(receiver));
    try {
      const { traceId, header } = newTraceparent();
      const { chat } = uniqueChat();
      const controller = new AbortController();
      const reply = await fetch(`${stack.edge.url}/api/events?chat=${chat}&access_token=secret-token-value`, {
        headers: { traceparent: header },
        signal: controller.signal,
      });
      expect(reply.status).toBe(200);
      controller.abort();
      const spans = await waitFor("the stream's spans from both services", () => {
        const found = receiver.trace(traceId);
        return found.some((span) => span.service === "chat-message") && found.some((span) => span.kind === SERVER && span.service === "chat-edge") ? found : undefined;
      });
      const edgeServer = spans.find((span) => span.service === "chat-edge" && span.kind === SERVER)!;
      // The query as the client sent it, the token's value redacted.
      expect(edgeServer.attributes["url.query"]).toBe(`chat=${chat}&access_token=REDACTED`);
      expect(JSON.stringify(receiver.spans)).not.toContain("secret-token-value");
      const subscribe = spans.find((span) => span.service === "chat-message" && span.attributes["rpc.method"] === "Subscribe");
      expect(subscribe?.kind).toBe(SERVER);
    } finally {
      await stack.stop();
      await receiver.close();
    }
  });
});

describe("trace export settings", () => {
  it("exports over http/protobuf too", async () => {
    const receiver = await startOtlpReceiver();
    const stack = await startStack({}, otlpEnv(receiver, "http/protobuf"));
    const api = restClient(stack.edge.url);
    try {
      const { traceId, header } = newTraceparent();
      await api.call("GET", "/ping", { headers: { traceparent: header } });
      const wanted = Buffer.from(traceId, "hex");
      await waitFor("a protobuf export holding the trace id", () => receiver.protobufBodies.some((body) => body.includes(wanted)));
    } finally {
      await api.close();
      await stack.stop();
      await receiver.close();
    }
  });

  it("marks a 503 as an error on the edge's server span", async () => {
    const receiver = await startOtlpReceiver();
    const edge = await startService("edge", { MESSAGE_SERVICE_URL: `http://127.0.0.1:${await freePort()}`, ...otlpEnv(receiver) });
    const api = restClient(edge.url);
    try {
      const { traceId, header } = newTraceparent();
      const reply = await api.call("POST", "/api/send", { json: { chat: "a:b", sender: "a", text: "x" }, headers: { traceparent: header } });
      expect(reply.status).toBe(503);
      const server = await waitFor("the edge server span", () => receiver.trace(traceId).find((s) => s.kind === SERVER));
      expect(server.statusCode).toBe(ERROR);
    } finally {
      await api.close();
      await edge.stop();
      await receiver.close();
    }
  });

  it("flushes buffered spans on SIGTERM", async () => {
    const receiver = await startOtlpReceiver();
    // A batch delay far beyond the test: only the shutdown flush can deliver the span.
    const edge = await startService("edge", { ...otlpEnv(receiver), OTEL_BSP_SCHEDULE_DELAY: "600000" });
    const api = restClient(edge.url);
    const { traceId, header } = newTraceparent();
    await api.call("GET", "/ping", { headers: { traceparent: header } });
    await api.close();
    expect(receiver.trace(traceId)).toEqual([]);
    expect(await edge.stop("SIGTERM")).toBe(0);
    expect(receiver.trace(traceId).map((span) => span.service)).toContain("chat-edge");
    await receiver.close();
  });

  it("exports nothing and prints nothing about exports when no endpoint is set", async () => {
    // Export failures are silent unless the SDK is asked to print its errors: ask, and make
    // exports quick to start and to fail, so an exporter aimed at the default endpoint
    // (localhost:4318, where nothing listens here) prints its failure by the time it stops.
    const env = { OTEL_LOG_LEVEL: "error", OTEL_BSP_SCHEDULE_DELAY: "50", OTEL_EXPORTER_OTLP_TIMEOUT: "1000" };
    const stack = await startStack(env, env);
    const api = restClient(stack.edge.url);
    try {
      const { traceId, header } = newTraceparent();
      await api.call("GET", "/ping", { headers: { traceparent: header } });
      // No spans are recorded, but incoming context flows on: log lines keep the caller's trace id.
      const line = await waitFor("the request's log line", () => stack.edge.logs.find((entry) => entry.msg === "request"));
      expect(line.trace_id).toBe(traceId);
      // Without a caller's trace there is no id to log, rather than one of zeros.
      await api.call("GET", "/ping");
      const untraced = await waitFor("the second request's log line", () => stack.edge.logs.filter((entry) => entry.msg === "request")[1]);
      expect(untraced).not.toHaveProperty("trace_id");
      expect(untraced).not.toHaveProperty("span_id");
    } finally {
      await api.close();
      await stack.stop();
    }
    for (const service of [stack.edge, stack.message]) {
      expect(service.stderr()).toBe("");
      expect(JSON.stringify(service.logs)).not.toMatch(/export/i);
    }
  });
});
