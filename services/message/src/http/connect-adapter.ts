import { Code, ConnectError, createConnectRouter, type ConnectRouter, type Interceptor } from "@connectrpc/connect";
import type { UniversalServerRequest } from "@connectrpc/connect/protocol";
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
 * connect-node's adapter (connectNodeAdapter), built from the same public pieces: one
 * ConnectRouter, its universal handlers, connect-node's request and response conversion. Only
 * the reading of HTTP/1.1 bodies differs, so that an oversized message is answered
 * resource_exhausted in every protocol instead of cutting the connection.
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
      .then((answer) => universalResponseToNodeResponse(answer, response))
      .catch((reason: unknown) => {
        if (ConnectError.from(reason).code !== Code.Aborted) options.onError(reason, handler.method.name);
      });
  };
}
