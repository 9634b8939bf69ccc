import type { DescMethodUnary, DescService } from "@bufbuild/protobuf";
import { Code, ConnectError, type Interceptor, type UnaryRequest, type UnaryResponse } from "@connectrpc/connect";
import { rpcCodeName } from "./rpc-codes.js";

/**
 * The headers of one call as a plain object of lower-case names, shaped like the Fetch
 * `Headers` the Connect interceptors read and write. The lean unary path uses it instead of
 * `Headers`, whose per-call cost showed in profiles.
 */
export class CallHeaders {
  constructor(readonly values: Record<string, string> = {}) {}

  get(name: string): string | null {
    return this.values[name.toLowerCase()] ?? null;
  }

  set(name: string, value: string): void {
    this.values[name.toLowerCase()] = value;
  }

  has(name: string): boolean {
    return name.toLowerCase() in this.values;
  }

  keys(): IterableIterator<string> {
    return Object.keys(this.values)[Symbol.iterator]();
  }
}

export type UnaryCall = (request: UnaryRequest) => Promise<UnaryResponse>;

/** The request object Connect interceptors expect, for a call that does not go through Connect. */
export function unaryRequest(
  service: DescService,
  method: DescMethodUnary,
  message: unknown,
  header: CallHeaders,
  signal: AbortSignal,
): UnaryRequest {
  return {
    stream: false,
    service,
    method,
    requestMethod: "POST",
    url: `/${service.typeName}/${method.name}`,
    signal,
    header: header as unknown as Headers,
    contextValues: undefined as never,
    message,
  } as UnaryRequest;
}

/** Wraps `call` in `interceptors`, outermost first, as Connect does. */
export function intercept(interceptors: readonly Interceptor[], call: UnaryCall): UnaryCall {
  return interceptors.reduceRight<UnaryCall>((next, interceptor) => interceptor(next as never) as UnaryCall, call);
}

// Connect protocol: the HTTP status of each error code, and the code of an HTTP status
// when a response carries no Connect error body.
const statusOfCode: Record<Code, number> = {
  [Code.Canceled]: 499,
  [Code.Unknown]: 500,
  [Code.InvalidArgument]: 400,
  [Code.DeadlineExceeded]: 504,
  [Code.NotFound]: 404,
  [Code.AlreadyExists]: 409,
  [Code.PermissionDenied]: 403,
  [Code.ResourceExhausted]: 429,
  [Code.FailedPrecondition]: 400,
  [Code.Aborted]: 409,
  [Code.OutOfRange]: 400,
  [Code.Unimplemented]: 501,
  [Code.Internal]: 500,
  [Code.Unavailable]: 503,
  [Code.DataLoss]: 500,
  [Code.Unauthenticated]: 401,
};

export const httpStatusOfCode = (code: Code): number => statusOfCode[code];

const codeOfName = new Map(
  Object.values(Code)
    .filter((value): value is Code => typeof value === "number")
    .map((code) => [rpcCodeName(code), code]),
);

/** The error a Connect unary response with a non-200 status stands for. */
export function connectErrorFromResponse(status: number, body: Buffer): ConnectError {
  try {
    const parsed = JSON.parse(body.toString("utf8")) as { code?: unknown; message?: unknown };
    const code = typeof parsed.code === "string" ? codeOfName.get(parsed.code) : undefined;
    if (code !== undefined) return new ConnectError(typeof parsed.message === "string" ? parsed.message : "", code);
  } catch {
    // Not a Connect error body: fall back on the status.
  }
  const byStatus: Record<number, Code> = { 400: Code.Internal, 401: Code.Unauthenticated, 403: Code.PermissionDenied, 404: Code.Unimplemented, 429: Code.Unavailable, 502: Code.Unavailable, 503: Code.Unavailable, 504: Code.Unavailable };
  return new ConnectError(`HTTP ${status}`, byStatus[status] ?? Code.Unknown);
}
