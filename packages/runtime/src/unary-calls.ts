import type { DescMethodUnary, DescService } from "@bufbuild/protobuf";
import { ConnectError, type Interceptor, type UnaryRequest, type UnaryResponse } from "@connectrpc/connect";
import { codeFromHttpStatus, errorFromJsonBytes } from "@connectrpc/connect/protocol-connect";

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

/** The error a Connect unary response with a non-200 status stands for (its JSON body, else its status). */
export function connectErrorFromResponse(status: number, body: Uint8Array): ConnectError {
  const fallback = new ConnectError(`HTTP ${status}`, codeFromHttpStatus(status));
  try {
    return errorFromJsonBytes(body, undefined, fallback);
  } catch {
    return fallback;
  }
}
