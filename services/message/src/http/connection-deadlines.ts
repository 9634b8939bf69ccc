import type * as http from "node:http";
import * as http2 from "node:http2";
import type * as net from "node:net";
import { http1DeadlineOptions, type ClientDeadlines } from "@chat/runtime";

/**
 * What a client must send by when, and how long a connection may sit with nothing to do.
 * Only what the client owes is bounded (its first bytes, the HTTP/2 preface, headers, the
 * request body) and connections with no request in progress. A response still streaming
 * after the client has finished its request half (a server-streaming call, for hours) is
 * never cut, and neither is the connection or session that carries it.
 */
export interface ListenerDeadlines extends ClientDeadlines {
  /** An HTTP/1.1 connection between requests; an HTTP/2 session without an open stream. */
  readonly idleTimeoutMs: number;
}

// A connection the server has ended closes as soon as the peer lets it; one that lingers is cut.
const peerCloseGraceMs = 1_000;

/** node:http options that enforce the deadlines on the HTTP/1.1 side. */
export function http1Options(deadlines: ListenerDeadlines): http.ServerOptions {
  // Node's request timeout ends with the request's last byte: a response is not bounded by it.
  return { ...http1DeadlineOptions(deadlines), keepAliveTimeout: deadlines.idleTimeoutMs };
}

/**
 * Closes `socket` unless it sends the bytes that pick its protocol (for HTTP/2 the whole
 * 24-byte preface) within the headers deadline. Call the returned function once they have.
 */
export function firstBytesDeadline(socket: net.Socket, deadlines: ListenerDeadlines): () => void {
  const timer = setTimeout(() => socket.destroy(), deadlines.headersTimeoutMs).unref();
  return () => clearTimeout(timer);
}

/**
 * Cuts an HTTP/2 connection whose peer does not close it soon after the server has ended its
 * side. A gracefully closed session (idle, or shutting down) waits for the peer to close the
 * socket, and a peer that still believes a stream open never does: without this, neither the
 * idle deadline nor the shutdown deadline would free the connection.
 */
export function cutWhenPeerLingers(socket: net.Socket): void {
  socket.once("finish", () => setTimeout(() => socket.destroy(), peerCloseGraceMs).unref());
}

/** Sends GOAWAY to a session that has had no open stream for `idleMs`; streams that stay open keep it. */
function closeWhenIdle(session: http2.ServerHttp2Session, idleMs: number): void {
  let open = 0;
  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    timer = setTimeout(() => session.close(), idleMs).unref();
  };
  session.on("stream", (stream: http2.ServerHttp2Stream) => {
    open++;
    clearTimeout(timer);
    stream.once("close", () => {
      if (--open === 0 && !session.closed && !session.destroyed) arm();
    });
  });
  session.once("close", () => clearTimeout(timer));
  arm();
}

/**
 * Resets a stream whose request half (headers, body, END_STREAM) has not arrived in full
 * within `requestMs`. A stream whose request is complete is left alone, however long its
 * response takes.
 */
function resetWhenStalled(stream: http2.ServerHttp2Stream, requestMs: number): void {
  if (stream.endAfterHeaders) return;
  const timer = setTimeout(() => {
    if (stream.destroyed || stream.state.remoteClose) return;
    stream.close(http2.constants.NGHTTP2_CANCEL);
  }, requestMs).unref();
  stream.once("close", () => clearTimeout(timer));
}

/** Enforces the deadlines on every session and stream of an HTTP/2 server. */
export function enforceHttp2Deadlines(server: http2.Http2Server, deadlines: ListenerDeadlines): void {
  server.on("session", (session: http2.ServerHttp2Session) => closeWhenIdle(session, deadlines.idleTimeoutMs));
  server.on("stream", (stream: http2.ServerHttp2Stream) => resetWhenStalled(stream, deadlines.requestTimeoutMs));
}
