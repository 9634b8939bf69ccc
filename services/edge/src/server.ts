import * as http from "node:http";
import pLimit from "p-limit";
import {
  createLogger,
  createMetricsRegistry,
  drainConnections,
  http1DeadlineOptions,
  limitRepeats,
  listen,
  startMetricsServer,
  type Logger,
  type Running,
} from "@chat/runtime";
import { createApp } from "./app.js";
import { createGuard } from "./guard.js";
import { answerClientErrors } from "./http/client-errors.js";
import type { EdgeConfig } from "./config.js";
import { createMessageClient } from "./rpc/message-client.js";
import { attachServiceCredential, createServiceCredential } from "./rpc/service-credential.js";
import { tracingClientInterceptor } from "@chat/runtime";
import { eventsRoute } from "./events/events-route.js";
import { createLiveClient } from "./events/live-client.js";
import { ChatRelays } from "./events/chat-relays.js";
import { observeEvents } from "./events/observe-events.js";
import { OpenStreams } from "./events/open-streams.js";
import { userHeaders } from "./api/routes.js";
import { webClient } from "./web/static-files.js";

/** How long a chat's relay outlives its last stream: clients that reconnect find it still there. */
const relayLingerMs = 10_000;
/** Catch-up calls opened at once; a reconnect storm waits here rather than overloading the service. */
const catchUpCallsAtOnce = 256;

/** Starts the REST edge on the configured port; resolves once it accepts connections. */
export async function start(
  config: EdgeConfig,
  logger: Logger = createLogger("chat-edge", config.logLevel),
): Promise<Running> {
  const registry = createMetricsRegistry();
  // The edge's credential on every call to the message service, streams included.
  const callInterceptors = config.serviceCredential ? [attachServiceCredential(createServiceCredential(config.serviceCredential, logger))] : [];
  const messages = createMessageClient({
    baseUrl: config.messageServiceUrl,
    httpVersion: config.rpcHttpVersion,
    maxSockets: config.rpcMaxSockets,
    connectionMaxAgeMs: config.rpcConnectionMaxAgeMs,
    sendBatchMax: config.rpcSendBatchMax,
    callInterceptors,
  });
  if (config.auth.mode === "jwt" && !config.serviceCredential) {
    logger.warn("AUTH_MODE=jwt without SERVICE_AUTH_KEY: the message service cannot tell this edge's calls from anyone else's");
  }
  const live = createLiveClient({
    baseUrl: config.messageServiceUrl,
    interceptors: [tracingClientInterceptor(), ...callInterceptors],
    resumeWithinMs: config.retry.deadlineMs,
  });
  const streams = new OpenStreams(config.events.maxStreams);
  // A chat watched by any number of this process's streams is one subscription to the service.
  const relays = new ChatRelays({ live, logger, lingerMs: relayLingerMs });
  const started = observeEvents(registry, streams, relays);
  const events = eventsRoute({
    live,
    relays,
    opening: pLimit(catchUpCallsAtOnce),
    started,
    streams,
    sse: config.events,
    queueLimit: config.events.queueLimit,
    maxChats: config.events.maxChats,
    userHeaders,
    logger,
  });
  let draining = false;
  const errorLog = limitRepeats(logger, { intervalMs: config.logRepeatIntervalMs });
  const guard = createGuard(config, { logger, errorLog }, registry);
  const app = createApp({
    logger,
    registry,
    errorLog,
    messages: messages.client,
    retry: config.retry,
    maxInFlight: config.maxInFlight,
    maxBodyBytes: config.maxBodyBytes,
    maxQueryParams: config.maxQueryParams,
    maxSubscribeChats: config.events.maxChats,
    events,
    guard: guard.before,
    authMode: config.auth.mode,
    webClient: webClient(config.web, logger),
    isDraining: () => draining,
  });
  const server = http.createServer(
    {
      // Slow or stuck clients cannot hold connections open: headers and whole requests must
      // arrive in time. Only what the client sends is bounded, never the answer.
      ...http1DeadlineOptions(config.clientDeadlines),
      // Longer than typical load balancer idle timeouts, so the balancer closes first.
      keepAliveTimeout: 65_000,
      maxHeaderSize: config.maxHeaderBytes,
    },
    app.callback(),
  );
  answerClientErrors(server, logger);

  const metrics = await startMetricsServer(registry, { port: config.metricsPort, host: config.host, logger });
  const url = await listen(server, config.port, config.host);
  logger.info({ url, messageService: config.messageServiceUrl }, "edge listening");

  return {
    url,
    async close() {
      draining = true;
      // Event streams end spread over most of the drain window, so their clients reconnect
      // (to other replicas) a few at a time rather than all at once.
      const streamsEnded = streams.endAll(config.shutdownTimeoutMs * 0.8);
      await drainConnections({ listener: server, http1: server }, config.shutdownTimeoutMs);
      await streamsEnded;
      relays.close();
      live.close();
      messages.close();
      await guard.close();
      await metrics.close();
      errorLog.flush();
    },
  };
}
