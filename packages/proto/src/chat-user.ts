/**
 * The user the edge authenticated, as it travels on calls to the message service: request
 * header `chat-user`, percent-encoded UTF-8 (header values are bytes; member ids are Unicode).
 * Absent when the edge runs without authentication. Only the edge may set it: the service
 * trusts it on calls that carry the edge's signed credential (SERVICE_AUTH_KEYS), or, without
 * that, because the network lets nothing else reach the service.
 */
export const chatUserHeader = "chat-user";

/** Header value for a user id; user ids are well-formed Unicode (no lone surrogates). */
export function encodeChatUser(user: string): string {
  return encodeURIComponent(user);
}

/** The user id of a header value, or undefined when the value is not one encodeChatUser makes. */
export function decodeChatUser(value: string): string | undefined {
  try {
    const user = decodeURIComponent(value);
    return user === "" ? undefined : user;
  } catch {
    return undefined;
  }
}
