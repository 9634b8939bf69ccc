import { describe, expect, it } from "vitest";
import { clientDeadlinesEnvShape, clientDeadlinesFrom, http1DeadlineOptions } from "./client-deadlines.js";
import { ConfigError, readEnv } from "./env.js";

const load = (env: Record<string, string>) => clientDeadlinesFrom(readEnv(clientDeadlinesEnvShape, env));

describe("client deadlines", () => {
  it("default to 10 s for headers and 30 s for the whole request", () => {
    expect(load({})).toEqual({ headersTimeoutMs: 10_000, requestTimeoutMs: 30_000 });
  });

  it("refuse a headers deadline longer than the request deadline, naming both", () => {
    expect(() => load({ CLIENT_HEADERS_TIMEOUT_MS: "20000", CLIENT_REQUEST_TIMEOUT_MS: "15000" })).toThrow(ConfigError);
    expect(() => load({ CLIENT_HEADERS_TIMEOUT_MS: "20000", CLIENT_REQUEST_TIMEOUT_MS: "15000" })).toThrow(
      "CLIENT_HEADERS_TIMEOUT_MS=20000: must not exceed CLIENT_REQUEST_TIMEOUT_MS=15000",
    );
  });

  it("are checked by node:http every second, not every 30 s", () => {
    expect(http1DeadlineOptions(load({}))).toEqual({ headersTimeout: 10_000, requestTimeout: 30_000, connectionsCheckingInterval: 1_000 });
    expect(http1DeadlineOptions(load({ CLIENT_HEADERS_TIMEOUT_MS: "500" })).connectionsCheckingInterval).toBe(500);
  });
});
