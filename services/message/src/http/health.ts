import type { RequestHandler } from "./dual-protocol.js";
import type { MessageStore } from "../store/store.js";

export interface HealthState {
  /** Set once shutdown begins, so the pod is taken out of rotation before it stops. */
  draining: boolean;
}

type Response = Parameters<RequestHandler>[1];

function reply(
  response: Response,
  status: number,
  body: object,
): void {
  const payload = JSON.stringify(body);
  response.writeHead(status, { "content-type": "application/json" });
  response.end(payload);
}

/**
 * Plain HTTP endpoints beside the RPC routes: /healthz (the process answers) and /readyz
 * (not draining and the store answers). Anything else is 404.
 */
export function healthHandler(store: MessageStore, state: HealthState): RequestHandler {
  return (request, response) => {
    const path = (request.url ?? "/").split("?")[0];
    if (path === "/healthz") return reply(response, 200, { status: "ok" });
    if (path !== "/readyz") {
      return reply(response, 404, { error: { code: "not_found", message: `no route ${path}` } });
    }
    if (state.draining) return reply(response, 503, { status: "draining" });
    store.check().then(
      () => reply(response, 200, { status: "ready" }),
      () => reply(response, 503, { status: "storage unavailable" }),
    );
  };
}
