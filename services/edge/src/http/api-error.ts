/** A client-facing error: an HTTP status plus the `{ error: { code, message } }` body. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
    this.name = "ApiError";
  }
}

export const invalidArgument = (message: string) => new ApiError(400, "invalid_argument", message);

/** A 503 the client should retry after `retryAfterSeconds`. */
export const unavailable = (message: string, retryAfterSeconds = 1) =>
  new ApiError(503, "unavailable", message, { "retry-after": String(retryAfterSeconds) });
