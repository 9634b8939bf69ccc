import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import type { RepeatLimitedLog } from "@chat/runtime";

/**
 * The one place where failures become RPC errors: ConnectErrors pass through (server-side
 * ones are logged with their cause), anything else is logged and answered as Internal,
 * so no stack trace or storage detail reaches a caller. An outage fails every call the same
 * way: each procedure and code is logged once per interval, the repeats counted.
 */
export function errorInterceptor(errorLog: RepeatLimitedLog): Interceptor {
  return (next) => async (request) => {
    try {
      return await next(request);
    } catch (error) {
      const procedure = request.method.name;
      if (error instanceof ConnectError) {
        if (error.cause !== undefined) {
          const code = Code[error.code];
          errorLog.log("error", `${procedure} ${code}`, { err: error.cause, procedure, code }, error.rawMessage);
          throw new ConnectError(error.rawMessage, error.code);
        }
        throw error;
      }
      errorLog.log("error", `${procedure} unexpected`, { err: error, procedure }, "unexpected error");
      throw new ConnectError("internal error", Code.Internal);
    }
  };
}
