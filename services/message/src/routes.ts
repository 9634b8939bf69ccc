import { Code, ConnectError, type ConnectRouter, type ServiceImpl } from "@connectrpc/connect";
import { MessageService, type Message } from "@chat/proto";
import { create } from "@bufbuild/protobuf";
import { MessageSchema } from "@chat/proto";
import { beforeDeadline } from "./deadline.js";
import { authorizePull, authorizeSend, callingUser } from "./chat/access.js";
import { validatePull, validateSend, type ChatLimits } from "./chat/rules.js";
import type { MessageStore, StoredMessage } from "./store/store.js";

export interface RouteDeps {
  readonly store: MessageStore;
  readonly limits: ChatLimits;
  /** Refuse calls that carry no authenticated user (the edge runs with AUTH_MODE=jwt). */
  readonly requireUser?: boolean;
}

function toMessage(chat: string, stored: StoredMessage): Message {
  return create(MessageSchema, {
    chat,
    text: stored.text,
    sender: stored.sender,
    sendTime: stored.sendTime,
  });
}

/** The MessageService implementation: chat rules first, then the store. */
export function messageService({ store, limits, requireUser = false }: RouteDeps): ServiceImpl<typeof MessageService> {
  return {
      async send(request, context) {
        authorizeSend(request.sender, callingUser(context.requestHeader, requireUser));
        const command = validateSend(request, limits);
        const { message, replayed } = await beforeDeadline(context.signal, store.append(command.chat.id, command));
        if (replayed && (message.sender !== command.sender || message.text !== command.text)) {
          throw new ConnectError(
            `client_message_id "${command.clientMessageId}" was already used for a different message in chat "${command.chat.id}"; use a new id for a new message`,
            Code.AlreadyExists,
          );
        }
        return { message: toMessage(command.chat.id, message) };
      },

      async pull(request, context) {
        const query = validatePull(request, limits);
        authorizePull(query.chat, callingUser(context.requestHeader, requireUser));
        const page = await beforeDeadline(context.signal, store.page(query.chat.id, query));
        return {
          messages: page.messages.map((stored) => toMessage(query.chat.id, stored)),
          hasMore: page.hasMore,
          nextCursor: page.nextCursor,
        };
      },
  };
}

/** The Connect routes: MessageService, served by messageService(deps). */
export default (deps: RouteDeps) => (router: ConnectRouter) => router.service(MessageService, messageService(deps));
