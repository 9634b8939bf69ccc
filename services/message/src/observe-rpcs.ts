import { ConnectError, type Code, type Interceptor } from "@connectrpc/connect";
import { onStreamEnd, rpcCodeName, type Logger } from "@chat/runtime";
import { Histogram, type Registry } from "prom-client";

const codeName = (code: Code | undefined) => (code === undefined ? "ok" : rpcCodeName(code));

/**
 * One JSON log line and one histogram observation per RPC: method, result code and
 * duration, a streaming call's when its stream ends.
 */
export function observeRpcs(logger: Logger, registry: Registry): Interceptor {
  const duration = new Histogram({
    name: "rpc_server_duration_seconds",
    help: "Duration of RPCs served by the message service, by method and result code.",
    labelNames: ["rpc_method", "rpc_code"],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  return (next) => async (request) => {
    const started = process.hrtime.bigint();
    const observe = (error: unknown) => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const method = request.method.name;
      const result = codeName(error === undefined ? undefined : ConnectError.from(error).code);
      duration.observe({ rpc_method: method, rpc_code: result }, seconds);
      logger.info({ rpc_method: method, code: result, duration_ms: Math.round(seconds * 1e6) / 1e3 }, "rpc");
    };
    let response;
    try {
      response = await next(request);
    } catch (error) {
      observe(error);
      throw error;
    }
    if (!response.stream) observe(undefined);
    return onStreamEnd(response, request.signal, observe);
  };
}
