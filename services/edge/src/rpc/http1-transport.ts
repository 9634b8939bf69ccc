import * as http from "node:http";
import type { IncomingMessage } from "node:http";
import { Code, ConnectError, type Interceptor, type Transport } from "@connectrpc/connect";
import { createTransport } from "@connectrpc/connect/protocol-connect";
import type { UniversalClientFn, UniversalClientRequest, UniversalClientResponse } from "@connectrpc/connect/protocol";
import { connectionErrors, socketErrorCode } from "./transport-errors.js";

/**
 * A failure of the socket as Connect sees it: Unavailable for connection failures (the call
 * may never have reached a server, or its answer was lost with the connection: safe to
 * retry on another), else Internal.
 */
function socketError(error: Error): ConnectError {
  if (error instanceof ConnectError) return error;
  const code = socketErrorCode(error);
  const connection = code !== undefined && connectionErrors.has(code);
  return new ConnectError(`message service connection failed (${code ?? error.message})`, connection ? Code.Unavailable : Code.Internal, undefined, undefined, error);
}

/** Why `signal` was aborted, as a ConnectError (Connect's own deadline and cancel reasons are ones). */
function abortReason(signal: AbortSignal): ConnectError {
  return ConnectError.from(signal.reason, Code.Canceled);
}

/** The response's fields as Fetch Headers (repeated fields joined as Fetch does, set-cookie aside). */
function webHeaders(fields: IncomingMessage["headers"]): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const item of value) headers.append(name, item);
    else headers.set(name, value);
  }
  return headers;
}

/** The response body as it arrives; a failure of the socket or an abort ends it with a ConnectError. */
async function* bodyOf(response: IncomingMessage, signal: AbortSignal | undefined): AsyncIterable<Uint8Array> {
  try {
    for await (const chunk of response) yield chunk as Buffer;
  } catch (error) {
    throw signal?.aborted ? abortReason(signal) : socketError(error as Error);
  }
}

interface Target {
  readonly hostname: string;
  readonly port: string;
  readonly path: string;
}

/**
 * The HTTP client under Connect's own Connect-protocol transport (`createTransport`), over
 * node:http with the given keep-alive agent: the request's Fetch headers and body out, the
 * response's status, headers, streamed body and trailers back, the call's signal (its
 * deadline, or the caller giving up) destroying the request. connect-node's client does the
 * same through more layers; profiles showed them costing more than the call.
 */
export function nodeHttp1Client(agent: http.Agent): UniversalClientFn {
  // One parse per method URL: every call of a method goes to the same one.
  const targets = new Map<string, Target>();
  const targetOf = (url: string): Target => {
    let target = targets.get(url);
    if (target === undefined) {
      const parsed = new URL(url);
      target = { hostname: parsed.hostname, port: parsed.port, path: parsed.pathname + parsed.search };
      targets.set(url, target);
    }
    return target;
  };

  return async (request: UniversalClientRequest): Promise<UniversalClientResponse> => {
    const { signal } = request;
    if (signal?.aborted) throw abortReason(signal);
    const { hostname, port, path } = targetOf(request.url);
    const headers: Record<string, string> = {};
    request.header.forEach((value, name) => {
      headers[name] = value;
    });
    const chunks: Uint8Array[] = [];
    for await (const chunk of request.body ?? []) chunks.push(chunk);
    const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
    headers["content-length"] = String(body.byteLength);

    return new Promise<UniversalClientResponse>((resolve, reject) => {
      const outgoing = http.request({ agent, hostname, port, path, method: request.method, headers });
      const onAbort = () => outgoing.destroy(abortReason(signal!));
      signal?.addEventListener("abort", onAbort, { once: true });
      const settled = () => signal?.removeEventListener("abort", onAbort);
      outgoing.once("response", (response) => {
        const trailer = new Headers();
        response.once("end", () => {
          settled();
          for (const [name, value] of Object.entries(response.trailers)) if (value !== undefined) trailer.set(name, value);
        });
        response.once("close", settled);
        resolve({ status: response.statusCode ?? 0, header: webHeaders(response.headers), body: bodyOf(response, signal), trailer });
      });
      outgoing.once("error", (error: Error) => {
        settled();
        reject(signal?.aborted ? abortReason(signal) : socketError(error));
      });
      outgoing.end(body);
    });
  };
}

export interface NodeHttp1TransportOptions {
  readonly baseUrl: string;
  /** The keep-alive connection pool the calls go over. */
  readonly agent: http.Agent;
  readonly interceptors: readonly Interceptor[];
}

// Answers larger than this are refused: the largest real one (a page of 100 messages) is far smaller.
const readMaxBytes = 16 * 1024 * 1024;

/**
 * A Connect transport (Connect protocol, binary protobuf) over HTTP/1.1: Connect's own
 * `createTransport`, so calls, interceptors, deadlines, cancellation, errors and streams
 * behave as with connect-node's transport, on nodeHttp1Client.
 */
export function createNodeHttp1Transport(options: NodeHttp1TransportOptions): Transport {
  return createTransport({
    httpClient: nodeHttp1Client(options.agent),
    baseUrl: options.baseUrl,
    useBinaryFormat: true,
    interceptors: [...options.interceptors],
    acceptCompression: [],
    sendCompression: null,
    compressMinBytes: Number.MAX_SAFE_INTEGER,
    readMaxBytes,
    writeMaxBytes: readMaxBytes,
  });
}
