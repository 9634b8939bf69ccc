import { discardRequestBody } from "@chat/runtime";
import type { RequestHandler } from "./dual-protocol.js";

type Request = Parameters<RequestHandler>[0];
type Response = Parameters<RequestHandler>[1];

// What is read and dropped of an answered request's unread body; past this, the connection closes.
const discardLimits = { maxBytes: 8 * 1024 * 1024, maxMs: 5_000 };

/**
 * Once an HTTP/1.1 request has been answered before its body was read to the end (a message
 * over the size limit), reads the rest and drops it: a client still sending then reads the
 * answer instead of a connection reset, and the connection stays usable. Past the limits the
 * connection is closed. Over HTTP/2 only the stream is at stake: one whose client never ends
 * it is reset by the request deadline (connection-deadlines.ts).
 */
export function discardUnreadBody(request: Request, response: Response): void {
  if ("stream" in request) return;
  const discard = () => {
    if (request.complete || request.destroyed) return;
    void discardRequestBody(request, discardLimits).then((outcome) => {
      if (outcome === "limit") request.destroy();
    });
  };
  if (response.writableFinished) discard();
  else response.once("finish", discard);
}
