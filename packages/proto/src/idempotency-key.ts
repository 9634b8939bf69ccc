/**
 * What an idempotency key may hold, for every way a client names one: the REST API's
 * `Idempotency-Key` header, and `client_message_id` in a REST body or a Send RPC. HTTP
 * header values are bytes (Node reads them as latin1), so only ASCII means the same in a
 * header as in JSON or protobuf; spaces are left out because proxies trim them from headers.
 */
export const maxIdempotencyKeyLength = 128;

const visibleAscii = /^[\x21-\x7e]*$/;

/**
 * Why `key` cannot be an idempotency key, worded to follow the name of the field that
 * carried it; undefined when it can. "" is valid: it means the send has no key.
 */
export function idempotencyKeyProblem(key: string): string | undefined {
  if (key.length > maxIdempotencyKeyLength) {
    return `is longer than ${maxIdempotencyKeyLength} characters`;
  }
  if (!visibleAscii.test(key)) {
    return "may contain only visible ASCII characters (letters, digits and punctuation; no spaces), e.g. a UUID";
  }
  return undefined;
}
