import { MessageService } from "@chat/proto";
import {
  createLogger,
  createMetricsRegistry,
  drainConnections,
  limitRepeats,
  listen,
  startMetricsServer,
  trackSessions,
  tracingServerInterceptor,
  type Logger,
  type Running,
} from "@chat/runtime";
import type { MessageServiceConfig } from "./config.js";
import { authenticateCallers, createCallerAuthenticator } from "./auth/caller-auth.js";
import { errorInterceptor } from "./errors.js";
import { connectAdapter } from "./http/connect-adapter.js";
import { createDualProtocolServer } from "./http/dual-protocol.js";
import { healthHandler, type HealthState } from "./http/health.js";
import { limitInFlight } from "./limit-in-flight.js";
import { observeRpcs } from "./observe-rpcs.js";
import routes from "./routes.js";
import { openStore } from "./storage.js";
import { LiveHub } from "./live/live-hub.js";
import { observeLive } from "./live/observe-live.js";

const maxRequestBytes = 1024 * 1024;

/** Starts the message service on the configured port; resolves once it accepts connections. */
export async function start(
  config: MessageServiceConfig,
  logger: Logger = createLogger("chat-message", config.logLevel),
): Promise<Running> {
  const registry = createMetricsRegistry();
  const errorLog = limitRepeats(logger, { intervalMs: config.logRepeatIntervalMs });
  const { store, failure } = await openStore(config, logger, registry);
  const health: HealthState = { draining: false };
  const feedOptions = (what: string) => ({
    readBatch: 500,
    checkIntervalMs: config.subscribe.checkIntervalMs,
    lingerMs: 30_000,
    onError: (error: unknown) => errorLog.log("warn", `reading ${what}`, { err: error }, `reading ${what} for its subscribers failed; retrying shortly`),
  });
  const hub = new LiveHub(store, feedOptions("a chat"));
  const members = new LiveHub(store.members.log, feedOptions("a member's events"));
  observeLive(registry, hub, members);
  const live = { hub, members, options: config.subscribe };
  const deps = { store, limits: config.limits, requireUser: config.requireUser, live };
  // Outermost first: the span and the log line see the error code the caller gets.
  const interceptors = [
    // SendBatch items are traced one by one, as the Send calls they stand for.
    tracingServerInterceptor({ untraced: [MessageService.method.sendBatch] }),
    observeRpcs(logger, registry),
    errorInterceptor(errorLog),
    limitInFlight(config.maxInFlight),
  ];
  // Every call proves it comes from the edge; SendBatch items ride on their batch's proof.
  const callInterceptors = config.callerAuth
    ? [...interceptors, authenticateCallers(createCallerAuthenticator(config.callerAuth, { logger, registry }))]
    : interceptors;
  const adapter = connectAdapter({
    routes: routes(deps, interceptors),
    interceptors: callInterceptors,
    readMaxBytes: maxRequestBytes,
    fallback: healthHandler(store, health),
    onError: (error, procedure) => errorLog.log("error", `${procedure} handler`, { err: error, procedure }, "rpc handler failed"),
  });
  const server = createDualProtocolServer(
    (request, response) => {
      // While draining, tell HTTP/1.1 callers not to reuse the connection after this answer,
      // so their next call opens one to a replica that is staying.
      if (health.draining && request.httpVersionMajor === 1) response.setHeader("connection", "close");
      adapter(request, response);
    },
    // Idle connections outlive the edge's idle timeouts (65 s by default), so the edge closes them first.
    config.listener,
  );
  const sessions = trackSessions(server.http2);

  const metrics = await startMetricsServer(registry, { port: config.metricsPort, host: config.host, logger });
  const url = await listen(server.listener, config.port, config.host);
  logger.info({ url, storage: config.storage.kind, callerAuth: config.callerAuth?.mode ?? "off" }, "message service listening");

  return {
    url,
    failure,
    async close() {
      health.draining = true;
      // Subscriptions end now, so that their callers resume them on a replica that stays.
      hub.close();
      members.close();
      await drainConnections(
        { listener: server.listener, http1: server.http1, http2Sessions: sessions },
        config.shutdownTimeoutMs,
      );
      await Promise.all([store.close(), metrics.close()]);
      errorLog.flush();
    },
  };
}
