import type * as http from "node:http";
import type * as http2 from "node:http2";

const idleSweepMs = 50;

function closed(server: http.Server | http2.Http2Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

/**
 * Stops accepting connections, lets in-flight requests finish, and closes keep-alive
 * connections as they fall idle. After `timeoutMs`, whatever is left is cut.
 */
export async function closeGracefully(server: http.Server, timeoutMs: number): Promise<void> {
  const done = closed(server);
  const sweeper = setInterval(() => server.closeIdleConnections(), idleSweepMs);
  server.closeIdleConnections();
  const deadline = setTimeout(() => server.closeAllConnections(), timeoutMs);
  await done;
  clearInterval(sweeper);
  clearTimeout(deadline);
}

/** Tracks the sessions of an HTTP/2 server so they can be sent GOAWAY on shutdown. */
export function trackSessions(server: http2.Http2Server): Set<http2.ServerHttp2Session> {
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on("session", (session: http2.ServerHttp2Session) => {
    sessions.add(session);
    session.once("close", () => sessions.delete(session));
  });
  return sessions;
}

/** Like closeGracefully, for HTTP/2: GOAWAY to every session, which close once their streams end. */
export async function closeHttp2Gracefully(
  server: http2.Http2Server,
  sessions: Set<http2.ServerHttp2Session>,
  timeoutMs: number,
): Promise<void> {
  const done = closed(server);
  for (const session of sessions) session.close();
  const deadline = setTimeout(() => {
    for (const session of sessions) session.destroy();
  }, timeoutMs);
  await done;
  clearTimeout(deadline);
}
