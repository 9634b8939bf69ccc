import { randomBytes } from "node:crypto";

/** A fresh sampled W3C trace context, to follow one request through the system. */
export function newTraceparent() {
  const traceId = randomBytes(16).toString("hex");
  return { traceId, header: `00-${traceId}-${randomBytes(8).toString("hex")}-01` };
}
