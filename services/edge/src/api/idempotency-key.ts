import { randomBytes } from "node:crypto";
import { idempotencyKeyProblem } from "@chat/proto";
import { Code, ConnectError } from "@connectrpc/connect";
import { ApiError, invalidArgument } from "../http/api-error.js";

/** The client's idempotency key and where it came from; checked here so errors name that place. */
export interface ClientKey {
  readonly key: string;
  readonly field: "Idempotency-Key header" | "client_message_id";
}

/** The key the client sent, in the header or the body; refused when the two differ or it is malformed. */
export function clientKey(header: string, fromBody: string | undefined): ClientKey | undefined {
  if (header !== "" && fromBody !== undefined && header !== fromBody) {
    throw invalidArgument("Idempotency-Key header and client_message_id differ; send one of them");
  }
  let chosen: ClientKey;
  if (fromBody !== undefined && fromBody !== "") chosen = { key: fromBody, field: "client_message_id" };
  else if (header !== "") chosen = { key: header, field: "Idempotency-Key header" };
  else return undefined;
  const problem = idempotencyKeyProblem(chosen.key);
  if (problem !== undefined) throw invalidArgument(`${chosen.field} ${problem}`);
  return chosen;
}

/**
 * A retry key for a send without a client key, when the edge may retry it: a retry after a
 * lost response then cannot store the message twice, and nothing is stored for it but the
 * key inside the message (see RetryKey in the contract). 16 characters, 96 random bits.
 */
export const newRetryKey = () => randomBytes(12).toString("base64url");

/** The service names client_message_id in a key conflict; a header client is told about its header. */
export function keyConflict(client: ClientKey | undefined, error: unknown): unknown {
  if (client?.field !== "Idempotency-Key header") return error;
  if (!(error instanceof ConnectError) || error.code !== Code.AlreadyExists) return error;
  return new ApiError(
    409,
    "already_exists",
    `Idempotency-Key ${JSON.stringify(client.key)} was already used for a different message in this chat; use a new key for a new message`,
  );
}
