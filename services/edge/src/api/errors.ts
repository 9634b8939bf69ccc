import { Code, ConnectError } from "@connectrpc/connect";
import { httpStatusOfCode, rpcCodeName, type RepeatLimitedLog } from "@chat/runtime";
import type { Context, Next } from "koa";
import { ApiError, unavailable } from "../http/api-error.js";

function fromConnectError(error: ConnectError): ApiError {
  // The Connect protocol's own code → HTTP status table, so both hops agree.
  const status = httpStatusOfCode(error.code);
  if (status < 500) return new ApiError(status, rpcCodeName(error.code), error.rawMessage);
  if (error.code === Code.Unavailable) {
    return unavailable("the message service is unavailable; retry shortly");
  }
  if (error.code === Code.DeadlineExceeded) {
    return new ApiError(504, "deadline_exceeded", "the message service did not answer in time; retry");
  }
  return new ApiError(status, rpcCodeName(error.code), "internal error");
}

function fromHttpError(error: { status: number; message: string; expose?: boolean }): ApiError {
  const names: Record<number, string> = {
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
    501: "unimplemented",
  };
  return new ApiError(error.status, names[error.status] ?? "invalid_argument", error.message);
}

function toApiError(error: unknown): ApiError | undefined {
  if (error instanceof ApiError) return error;
  if (error instanceof ConnectError) return fromConnectError(error);
  const status = (error as { status?: unknown } | null)?.status;
  if (typeof status === "number" && status >= 400 && status < 500) {
    return fromHttpError(error as { status: number; message: string });
  }
  return undefined;
}

/**
 * Turns every failure below it into the JSON error body, and unmatched routes into 404.
 * Server-side failures are logged with their cause, once per route, code and interval while
 * they repeat (an outage fails every request), and answered without internals.
 */
export function errorResponses(errorLog: RepeatLimitedLog) {
  return async (ctx: Context, next: Next): Promise<void> => {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) {
        throw new ApiError(404, "not_found", `no route for ${ctx.method} ${ctx.path}`);
      }
      if (ctx.status === 405 && ctx.body === undefined) {
        const allowed = ctx.response.get("allow");
        throw new ApiError(405, "method_not_allowed", `${ctx.method} is not allowed on ${ctx.path}; use ${allowed}`);
      }
    } catch (error) {
      const known = toApiError(error) ?? new ApiError(500, "internal", "internal error");
      if (known.status >= 500) {
        const route = (ctx as { _matchedRoute?: string })._matchedRoute ?? "unmatched";
        errorLog.log("error", `${known.code} ${route}`, { err: error, route }, known.message);
      }
      ctx.status = known.status;
      ctx.set(known.headers);
      ctx.body = { error: { code: known.code, message: known.message } };
    }
  };
}
