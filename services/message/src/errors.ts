import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import type { Logger } from "@chat/runtime";

/**
 * The one place where failures become RPC errors: ConnectErrors pass through (server-side
 * ones are logged with their cause), anything else is logged and answered as Internal,
 * so no stack trace or storage detail reaches a caller.
 */
export function errorInterceptor(logger: Logger): Interceptor {
  return (next) => async (request) => {
    try {
      return await next(request);
    } catch (error) {
      const procedure = request.method.name;
      if (error instanceof ConnectError) {
        if (error.cause !== undefined) {
          logger.error({ err: error.cause, procedure, code: Code[error.code] }, error.rawMessage);
          throw new ConnectError(error.rawMessage, error.code);
        }
        throw error;
      }
      logger.error({ err: error, procedure }, "unexpected error");
      throw new ConnectError("internal error", Code.Internal);
    }
  };
}
