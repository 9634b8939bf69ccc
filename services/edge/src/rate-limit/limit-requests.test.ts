import { describe, expect, it } from "vitest";
import { clientAddress } from "./limit-requests.js";

function request(peer: string, forwardedFor?: string) {
  return {
    req: { socket: { remoteAddress: peer } },
    get: (name: string) => (name === "x-forwarded-for" ? (forwardedFor ?? "") : ""),
  } as unknown as Parameters<typeof clientAddress>[0];
}

describe("clientAddress", () => {
  it("is the peer when no proxy is trusted, whatever X-Forwarded-For claims", () => {
    expect(clientAddress(request("10.0.0.5", "1.2.3.4"), 0)).toBe("10.0.0.5");
  });

  it("is the entry the outermost trusted proxy appended", () => {
    // The client wrote "6.6.6.6" itself; the ingress appended the real peer 1.2.3.4.
    expect(clientAddress(request("10.0.0.5", "6.6.6.6, 1.2.3.4"), 1)).toBe("1.2.3.4");
    expect(clientAddress(request("10.0.0.5", "6.6.6.6, 1.2.3.4, 10.0.0.9"), 2)).toBe("1.2.3.4");
  });

  it("falls back to what there is when fewer proxies answered than trusted", () => {
    expect(clientAddress(request("10.0.0.5", "1.2.3.4"), 3)).toBe("1.2.3.4");
    expect(clientAddress(request("10.0.0.5"), 1)).toBe("10.0.0.5");
  });
});
