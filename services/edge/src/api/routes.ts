import Router from "@koa/router";
import type { ChatSummary, Message } from "@chat/proto";
import { chatUserHeader, encodeChatUser } from "@chat/proto";
import type { CallOptions } from "@connectrpc/connect";
import type { Context } from "koa";
import type { ApiAction, Middleware } from "../http/middleware.js";
import type { MessageClient } from "../rpc/rpc-client.js";
import { withRetries, type Attempt, type RetryPolicy } from "../rpc/retry.js";
import { hangUpSignal } from "./hang-up.js";
import { ApiError } from "../http/api-error.js";
import { clientKey, keyConflict, newRetryKey } from "./idempotency-key.js";
import { inFlightLimit } from "./limit-in-flight.js";
import { readFields } from "./request-fields.js";
import {
  listChatsFields,
  markReadFields,
  parseListChats,
  parseMarkRead,
  parsePull,
  parseSend,
  pullFields,
  sendFields,
} from "./schemas.js";

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
  /** How clients authenticate, told to the web client by GET /api/client-config. */
  readonly authMode: "none" | "jwt";
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

/** One row of a member's chat list as the REST API shows it; last_message as /api/pull shows it. */
function summaryJson(summary: ChatSummary) {
  return {
    chat: summary.chat,
    last_message: toJson(summary.lastMessage),
    read_cursor: Number(summary.readCursor),
    unread: summary.unread,
    unread_capped: summary.unreadCapped,
    other_read_cursor: Number(summary.otherReadCursor),
  };
}

/**
 * The member a request acts as: the one it names, else the bearer token's user. With
 * neither it is "", and the message service answers that member is required.
 */
function memberOf(ctx: Context, named: string | undefined): string {
  return named ?? (ctx.state.user as string | undefined) ?? "";
}

/** Call headers carrying the authenticated user, for the message service to enforce access. */
export function userHeaders(ctx: Context): Record<string, string> | undefined {
  const user = ctx.state.user as string | undefined;
  return user === undefined ? undefined : { [chatUserHeader]: encodeChatUser(user) };
}

/** The public REST API: /ping, /api/send, /api/pull, /api/chats, /api/read, /api/events, /api/client-config, and the probes. */
export function apiRoutes(deps: ApiDeps): Router {
  const router = new Router();
  const retries = deps.retry.attempts > 1;
  const guard = deps.guard ?? (() => []);
  // Only sends, pulls, chat lists and read marks take a slot: probes and /ping never wait
  // for one, so a flood of slow clients cannot fail them.
  const inFlight = inFlightLimit(deps.maxInFlight);
  /**
   * One call to the message service for this request, in an in-flight slot, retried by the
   * policy, carrying the request's user and cancelled when its client hangs up.
   */
  const call = <T>(ctx: Context, attempt: (options: CallOptions, attempt: Attempt) => Promise<T>): Promise<T> => {
    const headers = userHeaders(ctx);
    const signal = hangUpSignal(ctx);
    return inFlight.run(() => withRetries(deps.retry, signal, (each) => attempt({ timeoutMs: each.timeoutMs, headers, signal }, each)));
  };

  router.get("/ping", (ctx) => {
    ctx.body = { message: "pong" };
  });

  router.post("/api/send", ...guard("send"), async (ctx) => {
    const input = parseSend(await readFields(ctx, sendFields, deps.maxBodyBytes));
    const client = clientKey(ctx.get("idempotency-key"), input.client_message_id);
    const retryKey = client === undefined && retries ? newRetryKey() : undefined;
    const request = { chat: input.chat, text: input.text, sender: input.sender, clientMessageId: client?.key ?? "" };
    const { message } = await call(ctx, (options, { sinceFirstMs }) => {
      const attempt = retryKey === undefined ? request : { ...request, retryKey: { key: retryKey, sinceFirstAttemptMs: BigInt(sinceFirstMs) } };
      return deps.messages.send(attempt, options);
    }).catch((error: unknown) => {
      throw keyConflict(client, error);
    });
    ctx.body = { status: "success", message: toJson(message) };
  });

  router.get("/api/pull", ...guard("pull"), async (ctx) => {
    const input = parsePull(await readFields(ctx, pullFields, deps.maxBodyBytes));
    const page = await call(ctx, (options) => deps.messages.pull(input, options));
    ctx.body = {
      messages: page.messages.map(toJson),
      has_more: page.hasMore,
      next_cursor: Number(page.nextCursor),
      history_start: Number(page.historyStart),
    };
  });

  router.get("/api/chats", ...guard("list"), async (ctx) => {
    const input = parseListChats(await readFields(ctx, listChatsFields, deps.maxBodyBytes));
    const request = { member: memberOf(ctx, input.member), limit: input.limit, cursor: input.cursor };
    const page = await call(ctx, (options) => deps.messages.listChats(request, options));
    ctx.body = {
      chats: page.chats.map(summaryJson),
      has_more: page.hasMore,
      // Opaque, as the service makes it; "" when has_more is false.
      next_cursor: page.nextCursor,
    };
  });

  router.post("/api/read", ...guard("read"), async (ctx) => {
    const input = parseMarkRead(await readFields(ctx, markReadFields, deps.maxBodyBytes));
    const request = { chat: input.chat, member: memberOf(ctx, input.member), cursor: input.cursor };
    // Safe to retry: a read cursor only moves forward, so a repeated mark changes nothing.
    const read = await call(ctx, (options) => deps.messages.markRead(request, options));
    ctx.body = { read_cursor: Number(read.readCursor), unread: read.unread, unread_capped: read.unreadCapped };
  });

  if (deps.events) router.get("/api/events", ...guard("events"), deps.events);

  // What the web client needs before sign-in (which form to show): public, like the page itself.
  router.get("/api/client-config", (ctx) => {
    ctx.body = { auth_mode: deps.authMode };
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
