// Loaded with `node --import` before the message service, so tracing is set up before ioredis is loaded.
import { HttpInstrumentation } from "@opentelemetry/instrumentation-http";
import { IORedisInstrumentation } from "@opentelemetry/instrumentation-ioredis";
import { startTracing } from "@chat/runtime/tracing";

const probes = /^\/(healthz|readyz|metrics)(\?|$)/;

await startTracing({
  defaultServiceName: "chat-message",
  instrumentations: () => [
    new HttpInstrumentation({ ignoreIncomingRequestHook: (request) => probes.test(request.url ?? "") }),
    // The command name only: arguments hold message text and member ids.
    new IORedisInstrumentation({ dbStatementSerializer: (command) => command, requireParentSpan: true }),
  ],
});
