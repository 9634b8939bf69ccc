import { Code, ConnectError } from "@connectrpc/connect";

/**
 * Settles with `work`, or fails as soon as the call's signal aborts (its deadline passed or
 * the caller went away), so a slow Redis never holds a call past the caller's deadline. Work
 * that completes later is harmless: a retried send with the same key answers the stored one.
 */
export function beforeDeadline<T>(signal: AbortSignal, work: Promise<T>): Promise<T> {
  const abort = () => ConnectError.from(signal.reason ?? "deadline exceeded", Code.DeadlineExceeded);
  if (signal.aborted) return Promise.reject(abort());
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abort());
    signal.addEventListener("abort", onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}
