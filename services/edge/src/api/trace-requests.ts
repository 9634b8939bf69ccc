import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import type { Context, Next } from "koa";
import { probePaths } from "./observe-requests.js";

const tracer = () => trace.getTracer("chat-edge");
// An event stream may carry its bearer token in the query (an EventSource sets no headers).
const secretParameters = /(^|&)(access_token)=[^&]*/g;

/**
 * One SERVER span per REST request, named by method and matched route ("POST /api/send"),
 * child of the caller's trace when its request carries W3C trace context; the calls to the
 * message service and the request's log lines run inside it. It ends when the response does,
 * so an event stream's span lasts as long as the stream. Probes get none.
 *
 * This is the span OpenTelemetry's HTTP and Koa instrumentations would give (the HTTP span,
 * with the route the Koa one adds) at a fraction of their cost: they wrap every request,
 * response and router layer, which profiles showed costing more CPU per send than the rest of
 * the edge's tracing together, even with nothing recorded. The query is shown with the
 * value of access_token redacted.
 */
export function traceRequests() {
  return async (ctx: Context, next: Next): Promise<void> => {
    if (probePaths.has(ctx.path)) return next();
    const caller = propagation.extract(ROOT_CONTEXT, ctx.headers);
    const span = tracer().startSpan(
      ctx.method,
      {
        kind: SpanKind.SERVER,
        attributes: {
          "http.request.method": ctx.method,
          "url.path": ctx.path,
          ...(ctx.querystring === "" ? {} : { "url.query": ctx.querystring.replace(secretParameters, "$1$2=REDACTED") }),
          "url.scheme": ctx.protocol,
          "network.protocol.version": ctx.req.httpVersion,
        },
      },
      caller,
    );
    ctx.res.once("close", () => {
      const route = (ctx as { _matchedRoute?: string })._matchedRoute;
      if (route !== undefined) {
        span.updateName(`${ctx.method} ${route}`);
        span.setAttribute("http.route", route);
      }
      span.setAttribute("http.response.status_code", ctx.status);
      if (ctx.status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    });
    await context.with(trace.setSpan(caller, span), next);
  };
}
