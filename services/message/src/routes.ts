import { setMaxListeners } from "node:events";
import { Code, ConnectError, type ConnectRouter, type HandlerContext, type Interceptor, type ServiceImpl } from "@connectrpc/connect";
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
import { CallHeaders, intercept, unaryRequest } from "@chat/runtime";
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
 * its own would (its own span, log line, metrics, error mapping and in-flight slot), all at
 * once, so Redis reads their scripts together; each item's error becomes its result.
 */
function sendBatchOf(send: SendImpl, interceptors: readonly Interceptor[]): ServiceImpl<typeof MessageService>["sendBatch"] {
  const sendCall = intercept(interceptors, async (call) => {
    const context = { signal: call.signal, requestHeader: call.header } as unknown as HandlerContext;
    return { message: await send(call.message as never, context) } as never;
  });
  const sendItem = async (item: SendBatchItem, signal: AbortSignal): Promise<MessageInitShape<typeof SendBatchResultSchema>> => {
    try {
      const call = unaryRequest(MessageService, MessageService.method.send, item.request ?? create(SendRequestSchema), new CallHeaders(sendBatchItemHeaders(item)), signal);
      const { message } = (await sendCall(call)).message as unknown as { message: Message };
      return { result: { case: "message", value: message } };
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
    return { results: await Promise.all(request.items.map((item) => sendItem(item, context.signal))) };
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
