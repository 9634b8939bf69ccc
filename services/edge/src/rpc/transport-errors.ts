import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";

// Socket-level failures: the call may never have reached a server, or its response was lost
// with the connection (a replica crashed or restarted). connect-node reports some of them as
// Internal; they are the service being unavailable, which is safe to retry.
export const connectionErrors: ReadonlySet<string> = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EAI_AGAIN",
  "ENOTFOUND",
  "ERR_STREAM_PREMATURE_CLOSE",
  "ERR_HTTP2_STREAM_ERROR",
  "ERR_HTTP2_GOAWAY_SESSION",
]);

/** The code of a socket failure: its own, or ECONNRESET for Node's "socket hang up", which has none. */
export function socketErrorCode(error: { code?: unknown; message?: unknown } | undefined): string | undefined {
  if (typeof error?.code === "string") return error.code;
  return error?.message === "socket hang up" ? "ECONNRESET" : undefined;
}

/** Reports connection failures to the message service as Unavailable, whatever code the transport chose. */
export function connectionErrorsAsUnavailable(): Interceptor {
  return (next) => async (request) => {
    try {
      return await next(request);
    } catch (error) {
      const connectError = ConnectError.from(error);
      const code = socketErrorCode(connectError.cause as { code?: unknown; message?: unknown } | undefined);
      if (connectError.code !== Code.Unavailable && code !== undefined && connectionErrors.has(code)) {
        throw new ConnectError(`message service connection failed (${code})`, Code.Unavailable, undefined, undefined, error);
      }
      throw error;
    }
  };
}
