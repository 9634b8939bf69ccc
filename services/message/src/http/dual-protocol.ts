import * as http from "node:http";
import * as http2 from "node:http2";
import * as net from "node:net";
import type { ConnectNodeAdapterOptions } from "@connectrpc/connect-node";
import {
  cutWhenPeerLingers,
  enforceHttp2Deadlines,
  firstBytesDeadline,
  http1Options,
  type ListenerDeadlines,
} from "./connection-deadlines.js";

const http2Preface = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");

/** A request handler that serves both HTTP/1.1 and HTTP/2 requests, as Connect's adapter does. */
export type RequestHandler = NonNullable<ConnectNodeAdapterOptions["fallback"]>;

export interface DualProtocolServer {
  readonly listener: net.Server;
  readonly http1: http.Server;
  readonly http2: http2.Http2Server;
}

/**
 * One cleartext port for HTTP/1.1 and HTTP/2 with prior knowledge (h2c). Node's http2 module
 * offers `allowHTTP1` only over TLS, so the first bytes of each connection pick the server:
 * the HTTP/2 client preface goes to the HTTP/2 server, anything else to the HTTP/1.1 server.
 * Clients that send too slowly and idle connections are closed (see ListenerDeadlines).
 */
export function createDualProtocolServer(handler: RequestHandler, deadlines: ListenerDeadlines): DualProtocolServer {
  const http1Server = http.createServer(http1Options(deadlines), handler as http.RequestListener);
  const http2Server = http2.createServer({}, handler as (request: http2.Http2ServerRequest, response: http2.Http2ServerResponse) => void);
  enforceHttp2Deadlines(http2Server, deadlines);
  // The HTTP/1.1 server never listens itself; "listening" starts its connection tracking,
  // which enforces headersTimeout/requestTimeout and lets shutdown close idle connections.
  http1Server.emit("listening");
  // noDelay: responses go out as headers and body in separate writes; Nagle would hold the
  // second one back until the peer's delayed ACK (~40 ms).
  const listener = net.createServer({ pauseOnConnect: true, noDelay: true }, (socket) => {
    let seen = Buffer.alloc(0);
    const recognised = firstBytesDeadline(socket, deadlines);
    socket.once("close", recognised);
    const onData = (chunk: Buffer) => {
      seen = Buffer.concat([seen, chunk]);
      const compared = Math.min(seen.length, http2Preface.length);
      const isHttp2 = seen.subarray(0, compared).equals(http2Preface.subarray(0, compared));
      if (isHttp2 && seen.length < http2Preface.length) return;
      recognised();
      socket.off("data", onData);
      socket.pause();
      // Both servers read what was already consumed back from the socket's buffer; the
      // HTTP/2 session takes the socket's handle over and must not see a resumed stream.
      socket.unshift(seen);
      if (isHttp2) {
        cutWhenPeerLingers(socket);
        http2Server.emit("connection", socket);
      } else {
        http1Server.emit("connection", socket);
        socket.resume();
      }
    };
    socket.on("data", onData);
    socket.on("error", () => socket.destroy());
    socket.resume();
  });
  return { listener, http1: http1Server, http2: http2Server };
}
