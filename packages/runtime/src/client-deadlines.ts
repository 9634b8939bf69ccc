import type * as http from "node:http";
import { ConfigError, envVar } from "./env.js";

/**
 * How long a client may take to send what it owes: its request headers, and its whole
 * request. They bound receiving only; a response, however long it streams, is not bounded.
 */
export interface ClientDeadlines {
  /** From the connection (or the end of the previous request) to the last header byte. */
  readonly headersTimeoutMs: number;
  /** From the first byte of a request to the last byte of its body. */
  readonly requestTimeoutMs: number;
}

export const clientDeadlinesEnvShape = {
  CLIENT_HEADERS_TIMEOUT_MS: envVar
    .integer(10_000, 100, 600_000)
    .describe("longest a client may take to send a request's headers (and, on the message service, its first bytes); the connection is then closed"),
  CLIENT_REQUEST_TIMEOUT_MS: envVar
    .integer(30_000, 100, 3_600_000)
    .describe("longest a client may take to send a whole request, body included; the request is then answered 408 or reset. Responses are not bounded"),
};

/** The deadlines from the variables of `clientDeadlinesEnvShape`; throws ConfigError when they contradict. */
export function clientDeadlinesFrom(vars: { CLIENT_HEADERS_TIMEOUT_MS: number; CLIENT_REQUEST_TIMEOUT_MS: number }): ClientDeadlines {
  if (vars.CLIENT_HEADERS_TIMEOUT_MS > vars.CLIENT_REQUEST_TIMEOUT_MS) {
    throw new ConfigError(
      `invalid configuration:\n  CLIENT_HEADERS_TIMEOUT_MS=${vars.CLIENT_HEADERS_TIMEOUT_MS}: must not exceed CLIENT_REQUEST_TIMEOUT_MS=${vars.CLIENT_REQUEST_TIMEOUT_MS} (the headers are part of the request)`,
    );
  }
  return { headersTimeoutMs: vars.CLIENT_HEADERS_TIMEOUT_MS, requestTimeoutMs: vars.CLIENT_REQUEST_TIMEOUT_MS };
}

// Node checks both deadlines only every connectionsCheckingInterval (30 s by default), which
// let a connection live up to 30 s past its deadline; checked every second, it closes on time.
const checkEveryMs = 1_000;

/** node:http server options that enforce the deadlines, to within a second. */
export function http1DeadlineOptions(deadlines: ClientDeadlines): http.ServerOptions {
  return {
    headersTimeout: deadlines.headersTimeoutMs,
    requestTimeout: deadlines.requestTimeoutMs,
    connectionsCheckingInterval: Math.min(checkEveryMs, deadlines.headersTimeoutMs),
  };
}
