import type * as http from "node:http";
import type { Duplex } from "node:stream";
import type { Logger } from "@chat/runtime";

const answers: Record<string, [status: number, reason: string, code: string, message: string]> = {
  HPE_HEADER_OVERFLOW: [431, "Request Header Fields Too Large", "request_header_fields_too_large", "request headers are too large"],
  ERR_HTTP_REQUEST_TIMEOUT: [408, "Request Timeout", "request_timeout", "the request was not received in time"],
};
const malformed: [number, string, string, string] = [400, "Bad Request", "invalid_argument", "malformed HTTP request"];

/**
 * Answers requests Node's HTTP parser rejects (headers above maxHeaderSize, malformed
 * request lines, timeouts) with the API's JSON error body instead of a bare status line,
 * then closes the connection, as Node's default handler does.
 */
export function answerClientErrors(server: http.Server, logger: Logger): void {
  server.on("clientError", (error: NodeJS.ErrnoException, socket: Duplex) => {
    const inFlight = (socket as { _httpMessage?: { headersSent?: boolean } })._httpMessage;
    if (error.code === "ECONNRESET" || !socket.writable || inFlight?.headersSent) {
      socket.destroy();
      return;
    }
    const [status, reason, code, message] = answers[error.code ?? ""] ?? malformed;
    logger.debug({ code: error.code, status }, "request rejected by the HTTP parser");
    const body = JSON.stringify({ error: { code, message } });
    socket.end(
      `HTTP/1.1 ${status} ${reason}\r\n` +
        "content-type: application/json; charset=utf-8\r\n" +
        `content-length: ${Buffer.byteLength(body)}\r\n` +
        "x-content-type-options: nosniff\r\n" +
        "cache-control: no-store\r\n" +
        "connection: close\r\n\r\n" +
        body,
    );
  });
}
