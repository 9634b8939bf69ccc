import { setMaxListeners } from "node:events";
import {
  Code,
  ConnectError,
  createHandlerContext,
  type ConnectRouter,
  type HandlerContext,
  type Interceptor,
  type ServiceImpl,
} from "@connectrpc/connect";
// What Connect's own handlers call to run a unary method through its interceptors (marked
// internal by Connect; the behaviour suite's SendBatch cases would catch a change).
import { invokeUnaryImplementation } from "@connectrpc/connect/protocol";
import {
  MessageSchema,
  MessageService,
  sendBatchItemHeaders,
  SendRequestSchema,
  type Message,
  type SendBatchItem,
  type SendBatchResultSchema,
} from "@chat/proto";
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { beforeDeadline } from "./deadline.js";
import { authorizePull, authorizeSend, callingUser } from "./chat/access.js";
import { validatePull, validateSend, type ChatLimits } from "./chat/rules.js";
import type { LiveHub } from "./live/live-hub.js";
import { subscribeMethod, type SubscribeOptions } from "./live/subscribe.js";
import type { MessageStore, StoredMessage } from "./store/store.js";
import type { MemberEvent } from "./store/members.js";
import { listChatsMethod } from "./conversations/list-chats.js";
import { markReadMethod } from "./conversations/mark-read.js";
import { recordSend } from "./conversations/record-send.js";

export interface RouteDeps {
  readonly store: MessageStore;
  readonly limits: ChatLimits;
  /** Refuse calls that carry no authenticated user (the edge runs with AUTH_MODE=jwt). */
  readonly requireUser?: boolean;
  /**
   * The chat feeds and member-log feeds of this replica, for Subscribe, and how
   * subscriptions behave.
   */
  readonly live: { readonly hub: LiveHub; readonly members: LiveHub<MemberEvent>; readonly options: SubscribeOptions };
}

function toMessage(chat: string, stored: StoredMessage): Message {
  return create(MessageSchema, {
    chat,
    text: stored.text,
    sender: stored.sender,
    sendTime: stored.sendTime,
  });
}

/** Most items one SendBatch call may carry. */
export const maxSendBatchItems = 500;

type SendImpl = ServiceImpl<typeof MessageService>["send"];

/**
 * SendBatch from Send: every item goes through `interceptors` and `send` as a Send call of
 * its own would (Connect's own invocation, with a handler context of its own: its span, log
 * line, metrics, error mapping and in-flight slot), all at once, so Redis reads their scripts
 * together; each item's error becomes its result. Items share the batch call's deadline and
 * signal: a cancelled batch cancels them all.
 */
function sendBatchOf(send: SendImpl, interceptors: readonly Interceptor[]): ServiceImpl<typeof MessageService>["sendBatch"] {
  const method = MessageService.method.send;
  const spec = { kind: "unary" as const, method, impl: send };
  const path = `/${MessageService.typeName}/${method.name}`;
  const sendItem = async (item: SendBatchItem, batch: HandlerContext, url: string): Promise<MessageInitShape<typeof SendBatchResultSchema>> => {
    const context = createHandlerContext({
      service: MessageService,
      method,
      protocolName: batch.protocolName,
      requestMethod: batch.requestMethod,
      url,
      timeoutMs: batch.timeoutMs(),
      requestSignal: batch.signal,
      requestHeader: sendBatchItemHeaders(item),
    });
    try {
      const { message } = await invokeUnaryImplementation(spec, context, item.request ?? create(SendRequestSchema), [...interceptors]);
      return { result: { case: "message", value: message ?? create(MessageSchema) } };
    } catch (error) {
      const { code, rawMessage } = ConnectError.from(error);
      return { result: { case: "error", value: { code, message: rawMessage } } };
    }
  };
  return async (request, context) => {
    if (request.items.length > maxSendBatchItems) {
      throw new ConnectError(`a batch holds at most ${maxSendBatchItems} items; split it`, Code.InvalidArgument);
    }
    // Every item listens for the call's deadline on its signal: one listener each, not a leak.
    setMaxListeners(request.items.length + 10, context.signal);
    // Each item's URL is the one a Send call to the same server would have.
    const url = new URL(path, context.url).toString();
    return { results: await Promise.all(request.items.map((item) => sendItem(item, context, url))) };
  };
}

/**
 * The MessageService implementation: chat rules first, then the store. `interceptors` are
 * the ones every call goes through; SendBatch runs each of its items through them again.
 */
export function messageService(
  { store, limits, requireUser = false, live }: RouteDeps,
  interceptors: readonly Interceptor[] = [],
): ServiceImpl<typeof MessageService> {
  const send: SendImpl = async (request, context) => {
    authorizeSend(request.sender, callingUser(context.requestHeader, requireUser));
    const command = validateSend(request, limits);
    const result = await beforeDeadline(context.signal, store.append(command.chat.id, command));
    const { message, replayed } = result;
    if (replayed && (message.sender !== command.sender || message.text !== command.text)) {
      throw new ConnectError(
        command.clientMessageId !== ""
          ? `client_message_id "${command.clientMessageId}" was already used for a different message in chat "${command.chat.id}"; use a new id for a new message`
          : `retry_key "${command.retryKey?.key}" was already used for a different message in chat "${command.chat.id}"; make a new key for each message`,
        Code.AlreadyExists,
      );
    }
    await beforeDeadline(context.signal, recordSend(store, command.chat, result));
    return { message: toMessage(command.chat.id, message) };
  };
  return {
    send,
    sendBatch: sendBatchOf(send, interceptors),
    subscribe: subscribeMethod(live, { limits, requireUser }, live.options),
    listChats: listChatsMethod(store, { limits, requireUser }),
    markRead: markReadMethod(store, { limits, requireUser }),

    async pull(request, context) {
      const query = validatePull(request, limits);
      authorizePull(query.chat, callingUser(context.requestHeader, requireUser));
      const page = await beforeDeadline(context.signal, store.page(query.chat.id, query));
      return {
        messages: page.messages.map((stored) => toMessage(query.chat.id, stored)),
        hasMore: page.hasMore,
        nextCursor: page.nextCursor,
        historyStart: page.historyStart,
      };
    },
  };
}

/** The Connect routes: MessageService, served by messageService(deps, interceptors). */
export default (deps: RouteDeps, interceptors: readonly Interceptor[] = []) => (router: ConnectRouter) =>
  router.service(MessageService, messageService(deps, interceptors));
