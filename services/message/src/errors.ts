import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { onStreamEnd, type RepeatLimitedLog } from "@chat/runtime";

/**
 * The one place where failures become RPC errors: ConnectErrors pass through (server-side
 * ones are logged with their cause), anything else is logged and answered as Internal,
 * so no stack trace or storage detail reaches a caller. A stream's errors are mapped the
 * same way when they end it. An outage fails every call the same way: each procedure and
 * code is logged once per interval, the repeats counted.
 */
export function errorInterceptor(errorLog: RepeatLimitedLog): Interceptor {
  return (next) => async (request) => {
    const publicError = (error: unknown): ConnectError => {
      const procedure = request.method.name;
      if (error instanceof ConnectError) {
        if (error.cause === undefined) return error;
        const code = Code[error.code];
        errorLog.log("error", `${procedure} ${code}`, { err: error.cause, procedure, code }, error.rawMessage);
        return new ConnectError(error.rawMessage, error.code);
      }
      errorLog.log("error", `${procedure} unexpected`, { err: error, procedure }, "unexpected error");
      return new ConnectError("internal error", Code.Internal);
    };
    try {
      return onStreamEnd(await next(request), request.signal, () => {}, publicError);
    } catch (error) {
      throw publicError(error);
    }
  };
}
