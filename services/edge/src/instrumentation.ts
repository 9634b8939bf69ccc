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
      // An event stream may carry its bearer token in the query (an EventSource sets no
      // headers): spans show the parameter, never its value. The rest is the library's list.
      redactedQueryParamsServer: ["access_token", "sig", "Signature", "AWSAccessKeyId", "X-Goog-Signature"],
    }),
    new KoaInstrumentation({ ignoreLayersType: [KoaLayerType.MIDDLEWARE] }),
  ],
});
