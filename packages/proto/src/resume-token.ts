import { createHash } from "node:crypto";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { ResumeTokenSchema } from "./gen/chat/internal/v1/resume_token_pb.js";

/**
 * Resume tokens, shared by the message service (Subscribe) and the edge (its event streams):
 * the position of every chat of a subscription, as a ResumeToken message
 * (proto/chat/internal) in base64url. Chats are named by a 64-bit hash of their canonical
 * id, which keeps a token of 100 chats near 2.7 KB; a resumed subscription matches its
 * chats to the token's by that hash, so it may watch more or fewer chats than the one the
 * token came from.
 */

/** The 64-bit name of a chat in a token. */
export function chatMark(chatId: string): bigint {
  return createHash("sha256").update(chatId, "utf8").digest().readBigUInt64BE(0);
}

/** A token holding `positions` (at least one), keyed by chatMark. */
export function encodeResumeToken(positions: ReadonlyMap<bigint, bigint>): string {
  const chats = [...positions].map(([chat, position]) => ({ chat, position }));
  return Buffer.from(toBinary(ResumeTokenSchema, create(ResumeTokenSchema, { chats }))).toString("base64url");
}

const base64url = /^[A-Za-z0-9_-]*$/;

/** A string that is not a resume token this system made. */
export class MalformedResumeToken extends Error {
  override name = "MalformedResumeToken";
}

/**
 * The positions a token holds, by chatMark. Only what encodeResumeToken makes is accepted:
 * at least one chat, and bytes that encode back to themselves (protobuf would otherwise
 * read many a random string as a token without positions, and a resume from it would
 * silently start afresh).
 */
export function decodeResumeToken(token: string): Map<bigint, bigint> {
  const malformed = () => new MalformedResumeToken("resume_token is malformed; send the id of the last event received, or none");
  if (!base64url.test(token)) throw malformed();
  const bytes = Buffer.from(token, "base64url");
  let message;
  try {
    message = fromBinary(ResumeTokenSchema, bytes);
  } catch {
    throw malformed();
  }
  if (message.chats.length === 0 || !Buffer.from(toBinary(ResumeTokenSchema, message)).equals(bytes)) throw malformed();
  const positions = new Map<bigint, bigint>();
  for (const { chat, position } of message.chats) {
    if (position < 0n) throw malformed();
    positions.set(chat, position);
  }
  return positions;
}
