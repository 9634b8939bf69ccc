// Loaded with `node --import` before the edge, so tracing is set up before Koa is loaded.
import { HttpInstrumentation } from "@opentelemetry/instrumentation-http";
import { KoaInstrumentation, KoaLayerType } from "@opentelemetry/instrumentation-koa";
import { startTracing } from "@chat/runtime/tracing";

const probes = /^\/(healthz|readyz|metrics)(\?|$)/;

await startTracing({
  defaultServiceName: "chat-edge",
  instrumentations: () => [
    new HttpInstrumentation({
      ignoreIncomingRequestHook: (request) => probes.test(request.url ?? ""),
      // Calls to the message service get a Connect client span that carries traceparent
      // itself; an HTTP client span under it would only double the cost of every call.
      disableOutgoingRequestInstrumentation: true,
    }),
    new KoaInstrumentation({ ignoreLayersType: [KoaLayerType.MIDDLEWARE] }),
  ],
});
