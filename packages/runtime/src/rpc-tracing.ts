import {
  context,
  propagation,
  SpanKind,
  SpanStatusCode,
  trace,
  type Span,
  type TextMapGetter,
  type TextMapSetter,
} from "@opentelemetry/api";
import type { DescMethod } from "@bufbuild/protobuf";
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { rpcCodeName } from "./rpc-codes.js";
import { onStreamEnd } from "./stream-responses.js";

const tracer = () => trace.getTracer("chat-rpc");

const headerSetter: TextMapSetter<Headers> = { set: (headers, key, value) => headers.set(key, value) };
const headerGetter: TextMapGetter<Headers> = {
  keys: (headers) => [...headers.keys()],
  get: (headers, key) => headers.get(key) ?? undefined,
};

// Codes that mean the server failed, as opposed to a caller's mistake (OpenTelemetry RPC conventions).
const serverFaults = new Set([Code.Unknown, Code.DeadlineExceeded, Code.Unimplemented, Code.Internal, Code.Unavailable, Code.DataLoss]);

function attributes(service: string, method: string) {
  return { "rpc.system": "connect_rpc", "rpc.service": service, "rpc.method": method };
}

function end(span: Span, error: unknown, isFault: (code: Code) => boolean): void {
  if (error !== undefined) {
    const code = ConnectError.from(error).code;
    span.setAttribute("rpc.connect_rpc.error_code", rpcCodeName(code));
    if (isFault(code)) {
      span.recordException(error instanceof Error ? error : String(error));
      span.setStatus({ code: SpanStatusCode.ERROR, message: rpcCodeName(code) });
    }
  }
  span.end();
}

/**
 * Client side: one CLIENT span per call, whose context travels in the request headers as
 * W3C traceparent. HTTP instrumentation does not see node:http2, so this carries trace
 * context over every transport.
 */
export function tracingClientInterceptor(): Interceptor {
  return (next) => async (request) => {
    const service = request.service.typeName;
    const span = tracer().startSpan(`${service}/${request.method.name}`, {
      kind: SpanKind.CLIENT,
      attributes: attributes(service, request.method.name),
    });
    const active = trace.setSpan(context.active(), span);
    propagation.inject(active, request.header, headerSetter);
    try {
      const response = await context.with(active, () => next(request));
      end(span, undefined, () => true);
      return response;
    } catch (error) {
      end(span, error, () => true);
      throw error;
    }
  };
}

/**
 * Server side: one SERVER span per call (for the whole stream of a streaming one), child of the caller's span, whose context is taken
 * from the request headers (W3C traceparent) whatever the transport. Calls of `untraced`
 * methods get no span: a batch whose items are traced one by one, say.
 */
export function tracingServerInterceptor(options: { readonly untraced?: readonly DescMethod[] } = {}): Interceptor {
  const untraced = new Set<DescMethod>(options.untraced);
  return (next) => async (request) => {
    if (untraced.has(request.method)) return next(request);
    const service = request.service.typeName;
    const incoming = propagation.extract(context.active(), request.header, headerGetter);
    const span = tracer().startSpan(
      `${service}/${request.method.name}`,
      { kind: SpanKind.SERVER, attributes: attributes(service, request.method.name) },
      incoming,
    );
    let response;
    try {
      response = await context.with(trace.setSpan(incoming, span), () => next(request));
    } catch (error) {
      end(span, error, (code) => serverFaults.has(code));
      throw error;
    }
    // A streaming call's span lasts as long as its stream.
    if (!response.stream) end(span, undefined, () => false);
    return onStreamEnd(response, request.signal, (error) => end(span, error, (code) => serverFaults.has(code)));
  };
}
