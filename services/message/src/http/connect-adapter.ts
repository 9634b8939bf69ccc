import { Code, ConnectError, createConnectRouter, type ConnectRouter, type Interceptor } from "@connectrpc/connect";
import { createAsyncIterable, readAllBytes, type UniversalServerRequest, type UniversalServerResponse } from "@connectrpc/connect/protocol";
import { codeToHttpStatus, errorFromJsonBytes, errorToJsonBytes } from "@connectrpc/connect/protocol-connect";
import {
  compressionBrotli,
  compressionGzip,
  universalRequestFromNodeRequest,
  universalResponseToNodeResponse,
} from "@connectrpc/connect-node";
import type { RequestHandler } from "./dual-protocol.js";
import { discardUnreadBody } from "./unread-body.js";

type Request = Parameters<RequestHandler>[0];
type Response = Parameters<RequestHandler>[1];

export interface ConnectAdapterOptions {
  readonly routes: (router: ConnectRouter) => void;
  readonly interceptors: readonly Interceptor[];
  /** Largest request message; a larger one is answered resource_exhausted. */
  readonly readMaxBytes: number;
  /** Serves every path that is not an RPC. */
  readonly fallback: RequestHandler;
  /** A handler that failed other than by its caller going away. */
  readonly onError: (error: unknown, procedure: string) => void;
}

/**
 * An HTTP/1.1 request body that, when the handler stops reading early (a message over
 * readMaxBytes), leaves the request alone to be discarded once answered: connect-node's own
 * reader destroys it, which resets the connection before the client has read the answer.
 */
function http1Body(request: Request): AsyncIterable<Uint8Array> | undefined {
  // Only an HTTP/2 request has a stream; its own reader ends just that stream.
  if ("stream" in request) return undefined;
  return request.iterator({ destroyOnReturn: false });
}

function replyNoAuthority(response: Response): void {
  response.writeHead(400, { "content-type": "application/json" });
  response.end(JSON.stringify({ code: "invalid_argument", message: "the request has no Host header; send one" }));
}

/**
 * Connect's handlers answer a binary request body that does not decode as Internal ("parse
 * binary: ..."), a server fault; it is the caller's mistake, answered here as
 * invalid_argument (400) with Connect's message, as connect-go does. Other answers pass as
 * they are.
 */
async function undecodableAsInvalidArgument(answer: UniversalServerResponse): Promise<UniversalServerResponse> {
  if (answer.status !== codeToHttpStatus(Code.Internal) || answer.body === undefined) return answer;
  const body = await readAllBytes(answer.body, maxErrorBytes);
  const error = errorFromJsonBytes(body, undefined, new ConnectError("internal error", Code.Internal));
  if (error.code !== Code.Internal || !error.rawMessage.startsWith("parse binary:")) return { ...answer, body: createAsyncIterable([body]) };
  const refusal = errorToJsonBytes(new ConnectError(`cannot decode the request: ${error.rawMessage}`, Code.InvalidArgument), {});
  const header = new Headers(answer.header);
  header.set("content-length", String(refusal.byteLength));
  return { status: codeToHttpStatus(Code.InvalidArgument), header, body: createAsyncIterable([refusal]), trailer: answer.trailer };
}

// An error answer is a short JSON object.
const maxErrorBytes = 64 * 1024;

/**
 * connect-node's adapter (connectNodeAdapter), built from the same public pieces: one
 * ConnectRouter, its universal handlers, connect-node's request and response conversion. Only
 * the reading of HTTP/1.1 bodies differs, so that an oversized message is answered
 * resource_exhausted in every protocol instead of cutting the connection, and a body that
 * does not decode is the caller's error (see undecodableAsInvalidArgument). Every call, in
 * every protocol, goes through this one router registration.
 */
export function connectAdapter(options: ConnectAdapterOptions): RequestHandler {
  const router = createConnectRouter({
    interceptors: [...options.interceptors],
    readMaxBytes: options.readMaxBytes,
    acceptCompression: [compressionGzip, compressionBrotli],
  });
  options.routes(router);
  const paths = new Map(router.handlers.map((handler) => [handler.requestPath, handler]));

  return (request, response) => {
    const handler = paths.get(request.url?.split("?", 2)[0] ?? "");
    if (!handler) return options.fallback(request, response);
    let universal: UniversalServerRequest;
    try {
      universal = universalRequestFromNodeRequest(request, response, undefined, undefined);
    } catch {
      // An HTTP/1.0 request without a Host header has no authority to build a URL from;
      // thrown from here, it would end the process.
      return replyNoAuthority(response);
    }
    discardUnreadBody(request, response);
    handler({ ...universal, body: http1Body(request) ?? universal.body })
      .then(undecodableAsInvalidArgument)
      .then((answer) => universalResponseToNodeResponse(answer, response))
      .catch((reason: unknown) => {
        if (ConnectError.from(reason).code !== Code.Aborted) options.onError(reason, handler.method.name);
      });
  };
}
