import { setMaxListeners } from "node:events";
import type { DescMethodUnary, DescService } from "@bufbuild/protobuf";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError, type HandlerContext, type Interceptor } from "@connectrpc/connect";
import { errorToJson } from "@connectrpc/connect/protocol-connect";
import { CallHeaders, httpStatusOfCode, intercept, unaryRequest, type UnaryCall } from "@chat/runtime";
import type { RequestHandler } from "./dual-protocol.js";
import { discardUnreadBody } from "./unread-body.js";

type Request = Parameters<RequestHandler>[0];
type Response = Parameters<RequestHandler>[1];
type UnaryImplementation = (request: never, context: HandlerContext) => Promise<unknown>;

// The signal of every call without a deadline: each such call in flight listens on it.
const neverAborted = new AbortController().signal;
setMaxListeners(0, neverAborted);

function reply(response: Response, status: number, contentType: string, body: Uint8Array | string): void {
  response.writeHead(status, { "content-type": contentType, "content-length": Buffer.byteLength(body) });
  response.end(body);
}

function replyError(response: Response, error: unknown): void {
  const connectError = ConnectError.from(error);
  reply(response, httpStatusOfCode(connectError.code), "application/json", JSON.stringify(errorToJson(connectError, {})));
}

/** The body, or ResourceExhausted as soon as it is known to exceed `maxBytes` (the rest is left unread). */
function readBody(request: Request, maxBytes: number): Promise<Buffer> {
  const tooLarge = () => new ConnectError(`message larger than ${maxBytes} bytes`, Code.ResourceExhausted);
  if (Number(request.headers["content-length"]) > maxBytes) return Promise.reject(tooLarge());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        request.off("data", onData).pause();
        reject(tooLarge());
        return;
      }
      chunks.push(chunk);
    };
    request.on("data", onData);
    request.once("end", () => resolve(Buffer.concat(chunks)));
    request.once("error", reject);
  });
}

/**
 * Serves the unary methods of `service` for Connect-protocol calls over HTTP/1.1 with binary
 * protobuf and no compression — what the edge sends — straight from node:http, through the
 * same interceptors and implementation as the Connect adapter. Everything else (gRPC,
 * gRPC-Web, JSON, HTTP/2, compression, other paths) goes to `fallback`, the Connect adapter.
 * connect-node's per-call machinery cost more CPU than the call itself in profiles.
 */
export function connectUnaryFastPath(
  service: DescService,
  implementation: Record<string, UnaryImplementation>,
  interceptors: readonly Interceptor[],
  options: { readMaxBytes: number },
  fallback: RequestHandler,
): RequestHandler {
  const routes = new Map<string, { method: DescMethodUnary; call: UnaryCall }>();
  for (const method of service.methods) {
    if (method.methodKind !== "unary") continue;
    const run = implementation[method.localName]!;
    const call: UnaryCall = async (request) => {
      const context = { signal: request.signal, requestHeader: request.header } as unknown as HandlerContext;
      const message = await run(request.message as never, context);
      return { message } as never;
    };
    routes.set(`/${service.typeName}/${method.name}`, { method: method as DescMethodUnary, call: intercept(interceptors, call) });
  }

  return (request, response) => {
    const route = request.method === "POST" && request.httpVersionMajor === 1 ? routes.get(request.url ?? "") : undefined;
    const headers = request.headers;
    if (!route || headers["content-type"] !== "application/proto" || headers["content-encoding"] || headers["connect-content-encoding"]) {
      return fallback(request, response);
    }
    const timeoutMs = Number(headers["connect-timeout-ms"]);
    const signal = timeoutMs > 0 ? AbortSignal.timeout(timeoutMs) : neverAborted;
    readBody(request, options.readMaxBytes)
      .then((body) => {
        let message: unknown;
        try {
          message = fromBinary(route.method.input, body);
        } catch (error) {
          throw new ConnectError(`cannot decode the request: ${(error as Error).message}`, Code.InvalidArgument);
        }
        const call = unaryRequest(service, route.method, message, new CallHeaders(headers as Record<string, string>), signal);
        return route.call(call);
      })
      .then((result) => {
        // Implementations may answer an init object; create() makes it a message either way.
        const body = toBinary(route.method.output, create(route.method.output, result.message as never));
        reply(response, 200, "application/proto", body);
      })
      .catch((error: unknown) => {
        if (response.headersSent) response.destroy();
        else replyError(response, error);
      })
      .finally(() => discardUnreadBody(request, response));
  };
}
