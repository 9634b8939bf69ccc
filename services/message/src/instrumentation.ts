// Loaded with `node --import` before the message service, so tracing is set up before ioredis is loaded.
import { IORedisInstrumentation } from "@opentelemetry/instrumentation-ioredis";
import { startTracing } from "@chat/runtime/tracing";

// No HTTP server spans: every call gets its RPC server span from the Connect interceptor,
// which reads the caller's trace context from the headers over any transport, and each item
// of a SendBatch gets its own; an HTTP span around them would only add cost.
await startTracing({
  defaultServiceName: "chat-message",
  instrumentations: () => [
    // The command name only: arguments hold message text and member ids.
    new IORedisInstrumentation({ dbStatementSerializer: (command) => command, requireParentSpan: true }),
  ],
});
