import { Code, ConnectError } from "@connectrpc/connect";
import { chatUserHeader, decodeChatUser } from "@chat/proto";
import type { Chat } from "./rules.js";

/**
 * Who may do what, once the edge authenticates users. The edge checks nothing of this
 * itself: it passes the user along and answers what the service decides, so the rules live
 * here once (and hold for any caller that reaches the service).
 */

function denied(message: string): ConnectError {
  return new ConnectError(message, Code.PermissionDenied);
}

/**
 * The authenticated user a call carries, or undefined when it carries none (authentication
 * off). With `requireUser`, a call without one is refused.
 */
export function callingUser(headers: Headers, requireUser: boolean): string | undefined {
  const value = headers.get(chatUserHeader);
  if (value === null) {
    if (requireUser) throw new ConnectError("this call needs an authenticated user", Code.Unauthenticated);
    return undefined;
  }
  const user = decodeChatUser(value);
  if (user === undefined) throw new ConnectError(`the ${chatUserHeader} header is malformed`, Code.Unauthenticated);
  return user;
}

/** A user may send only as themselves. */
export function authorizeSend(sender: string, user: string | undefined): void {
  if (user !== undefined && sender !== user) {
    throw denied(`sender "${sender}" is not the authenticated user; send as yourself`);
  }
}

/** A user may read only the chats they are a member of. */
export function authorizePull(chat: Chat, user: string | undefined): void {
  if (user !== undefined && !chat.members.includes(user)) {
    throw denied(`you are not a member of chat "${chat.id}"`);
  }
}

/** A user may watch only chats they are a member of. */
export function authorizeSubscribe(chats: readonly Chat[], user: string | undefined): void {
  for (const chat of chats) authorizePull(chat, user);
}

/** A user may list, mark read and watch only as themselves. */
export function authorizeMember(member: string, user: string | undefined): void {
  if (user !== undefined && member !== user) {
    throw denied(`you may only act as yourself ("${user}"), not as "${member}"`);
  }
}
