import type * as http from "node:http";
import type * as http2 from "node:http2";
import type * as net from "node:net";

const idleSweepMs = 50;

/** Tracks the sessions of an HTTP/2 server so they can be sent GOAWAY on shutdown. */
export function trackSessions(server: http2.Http2Server): Set<http2.ServerHttp2Session> {
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on("session", (session: http2.ServerHttp2Session) => {
    sessions.add(session);
    session.once("close", () => sessions.delete(session));
  });
  return sessions;
}

export interface DrainTargets {
  /** The server that accepted the connections; it resolves the drain once all have closed. */
  readonly listener: net.Server;
  /** HTTP/1.1 server whose keep-alive connections are closed as they fall idle. */
  readonly http1?: http.Server;
  /** HTTP/2 sessions, sent GOAWAY so they close once their open streams end. */
  readonly http2Sessions?: Set<http2.ServerHttp2Session>;
}

/**
 * Stops accepting connections, lets in-flight requests finish, and closes connections as
 * they fall idle. After `timeoutMs`, whatever is left is cut.
 */
export async function drainConnections(targets: DrainTargets, timeoutMs: number): Promise<void> {
  const { listener, http1, http2Sessions = new Set() } = targets;
  const closed = new Promise<void>((resolve) => listener.close(() => resolve()));
  if (http1 && http1 !== listener) http1.close();
  for (const session of http2Sessions) session.close();
  const sweep = () => http1?.closeIdleConnections();
  sweep();
  const sweeper = setInterval(sweep, idleSweepMs);
  const deadline = setTimeout(() => {
    http1?.closeAllConnections();
    for (const session of http2Sessions) session.destroy();
  }, timeoutMs);
  await closed;
  clearInterval(sweeper);
  clearTimeout(deadline);
}
