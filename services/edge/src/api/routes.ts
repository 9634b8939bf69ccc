import Router from "@koa/router";
import type { Message } from "@chat/proto";
import { chatUserHeader, encodeChatUser } from "@chat/proto";
import type { Context } from "koa";
import type { ApiAction, Middleware } from "../guard.js";
import type { MessageClient } from "../rpc/message-client.js";
import { withRetries, type RetryPolicy } from "../rpc/retry.js";
import { ApiError } from "./api-error.js";
import { clientKey, keyConflict, newRetryKey } from "./idempotency-key.js";
import { inFlightLimit } from "./limit-in-flight.js";
import { readFields } from "./request-fields.js";
import { parsePull, parseSend, pullFields, sendFields } from "./schemas.js";

export interface ApiDeps {
  /** GET /api/events; absent, the route answers 404. */
  readonly events?: (ctx: Context) => Promise<void>;
  readonly messages: MessageClient;
  readonly retry: RetryPolicy;
  readonly maxBodyBytes: number;
  /** Requests worked on at once, counted from when their body has arrived; more get a 503. */
  readonly maxInFlight: number;
  /** Authentication and rate limits in front of each action (../guard.ts); none when absent. */
  readonly guard?: (action: ApiAction) => Middleware[];
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

/** Call headers carrying the authenticated user, for the message service to enforce access. */
export function userHeaders(ctx: Context): Record<string, string> | undefined {
  const user = ctx.state.user as string | undefined;
  return user === undefined ? undefined : { [chatUserHeader]: encodeChatUser(user) };
}

/** The public REST API: /ping, /api/send, /api/pull, and the probes. */
export function apiRoutes(deps: ApiDeps): Router {
  const router = new Router();
  const retries = deps.retry.attempts > 1;
  const guard = deps.guard ?? (() => []);
  // Only sends and pulls take a slot: probes and /ping never wait for one, so a flood of
  // slow clients cannot fail them.
  const inFlight = inFlightLimit(deps.maxInFlight);

  router.get("/ping", (ctx) => {
    ctx.body = { message: "pong" };
  });

  router.post("/api/send", ...guard("send"), async (ctx) => {
    const input = parseSend(await readFields(ctx, sendFields, deps.maxBodyBytes));
    const client = clientKey(ctx.get("idempotency-key"), input.client_message_id);
    const retryKey = client === undefined && retries ? newRetryKey() : undefined;
    const request = { chat: input.chat, text: input.text, sender: input.sender, clientMessageId: client?.key ?? "" };
    const headers = userHeaders(ctx);
    const { message } = await inFlight
      .run(() =>
        withRetries(deps.retry, ({ timeoutMs, sinceFirstMs }) => {
          const attempt = retryKey === undefined ? request : { ...request, retryKey: { key: retryKey, sinceFirstAttemptMs: BigInt(sinceFirstMs) } };
          return deps.messages.send(attempt, { timeoutMs, headers });
        }),
      )
      .catch((error: unknown) => {
        throw keyConflict(client, error);
      });
    ctx.body = { status: "success", message: toJson(message) };
  });

  router.get("/api/pull", ...guard("pull"), async (ctx) => {
    const input = parsePull(await readFields(ctx, pullFields, deps.maxBodyBytes));
    const headers = userHeaders(ctx);
    const page = await inFlight.run(() => withRetries(deps.retry, ({ timeoutMs }) => deps.messages.pull(input, { timeoutMs, headers })));
    ctx.body = {
      messages: page.messages.map(toJson),
      has_more: page.hasMore,
      next_cursor: Number(page.nextCursor),
      history_start: Number(page.historyStart),
    };
  });

  if (deps.events) router.get("/api/events", ...guard("events"), deps.events);

  router.get("/healthz", (ctx) => {
    ctx.body = { status: "ok" };
  });

  router.get("/readyz", (ctx) => {
    if (deps.isDraining()) throw new ApiError(503, "unavailable", "draining");
    ctx.body = { status: "ready" };
  });

  return router;
}
