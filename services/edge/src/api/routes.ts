import Router from "@koa/router";
import type { Message } from "@chat/proto";
import type { MessageClient } from "../rpc/message-client.js";
import { ApiError, invalidArgument } from "./api-error.js";
import { readFields } from "./request-fields.js";
import { parsePull, parseSend, pullFields, sendFields } from "./schemas.js";

export interface ApiDeps {
  readonly messages: MessageClient;
  readonly rpcTimeoutMs: number;
  readonly maxBodyBytes: number;
  /** Set once shutdown begins; readiness then fails so no new traffic is routed here. */
  readonly isDraining: () => boolean;
}

/** A message as the REST API shows it (send_time in microseconds, as a JSON number). */
function toJson(message: Message | undefined) {
  return {
    chat: message?.chat ?? "",
    text: message?.text ?? "",
    sender: message?.sender ?? "",
    send_time: Number(message?.sendTime ?? 0n),
  };
}

function idempotencyKey(header: string, fromBody: string | undefined): string {
  if (header !== "" && fromBody !== undefined && header !== fromBody) {
    throw invalidArgument("Idempotency-Key header and client_message_id differ; send one of them");
  }
  return fromBody ?? header;
}

/** The public REST API: /ping, /api/send, /api/pull, and the probes. */
export function apiRoutes(deps: ApiDeps): Router {
  const router = new Router();
  const callOptions = () => ({ timeoutMs: deps.rpcTimeoutMs });

  router.get("/ping", (ctx) => {
    ctx.body = { message: "pong" };
  });

  router.post("/api/send", async (ctx) => {
    const input = parseSend(await readFields(ctx, sendFields, deps.maxBodyBytes));
    const { message } = await deps.messages.send(
      {
        chat: input.chat,
        text: input.text,
        sender: input.sender,
        clientMessageId: idempotencyKey(ctx.get("idempotency-key"), input.client_message_id),
      },
      callOptions(),
    );
    ctx.body = { status: "success", message: toJson(message) };
  });

  router.get("/api/pull", async (ctx) => {
    const input = parsePull(await readFields(ctx, pullFields, deps.maxBodyBytes));
    const page = await deps.messages.pull(input, callOptions());
    ctx.body = {
      messages: page.messages.map(toJson),
      has_more: page.hasMore,
      next_cursor: Number(page.nextCursor),
    };
  });

  router.get("/healthz", (ctx) => {
    ctx.body = { status: "ok" };
  });

  router.get("/readyz", (ctx) => {
    if (deps.isDraining()) throw new ApiError(503, "unavailable", "draining");
    ctx.body = { status: "ready" };
  });

  return router;
}
