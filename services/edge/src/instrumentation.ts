// Loaded with `node --import` before the edge, so tracing (its context manager and W3C
// propagation) is set up before the first request. The edge needs no instrumentation module:
// each REST request gets its SERVER span from ./api/trace-requests.ts and each call to the
// message service its CLIENT span from the Connect interceptor, which carries traceparent.
import { startTracing } from "@chat/runtime/tracing";

await startTracing({ defaultServiceName: "chat-edge" });
