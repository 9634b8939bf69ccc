import { Code, ConnectError, type StreamResponse, type UnaryResponse } from "@connectrpc/connect";

/**
 * For interceptors that must see how a call ends: a unary call ends with its response, a
 * streaming one only when its messages do. `ended` is told the error a stream failed with,
 * undefined when it ran to its end or the caller stopped reading; `mapError` may replace
 * that error on its way to the caller. Once the call's `signal` has aborted (the caller
 * reset the stream or went away), whatever failed is Canceled: writing to a stream nobody
 * reads is not the server's fault.
 */
export function onStreamEnd<R extends UnaryResponse | StreamResponse>(
  response: R,
  signal: AbortSignal,
  ended: (error: unknown) => void,
  mapError: (error: unknown) => unknown = (error) => error,
): R {
  if (!response.stream) return response;
  const messages = response.message;
  async function* watched() {
    let failure: unknown;
    try {
      yield* messages;
    } catch (error) {
      failure = mapError(signal.aborted ? new ConnectError("the caller went away", Code.Canceled) : error);
      throw failure;
    } finally {
      ended(failure);
    }
  }
  return { ...response, message: watched() };
}
