import { Code, ConnectError } from "@connectrpc/connect";
import type { Chat } from "../chat/rules.js";
import type { AppendResult, MessageStore, StoredMessage } from "../store/store.js";

/** Most of a chat's newest messages a lagging member record takes in at once. */
const catchUpLimit = 100;
/** Rounds of catching up while concurrent sends of the chat move the record on. */
const maxRounds = 5;

/**
 * After a send is stored, records it in each member's chat list and event log.
 *
 * The chat's stream is written first and is the source of truth; the members' records live
 * in other slots, so they are second writes, and a send may be stored without them (the
 * service died between the two, or the second failed: the send then fails as retryable and
 * its retry lands here again as a replay). A record therefore says up to which message of
 * the chat it holds, and takes messages only when it stands where they start or later (a
 * concurrent send's record may have moved it on: it then takes those after it); a record
 * that stands earlier first takes in what it missed, read from the chat itself. So the next
 * retry or the next send of the chat repairs a missing record, and no message is logged
 * twice or out of order. Messages older than the chat's newest `catchUpLimit` are not
 * logged on repair (a client that missed them sees them in the chat's history).
 */
export async function recordSend(store: MessageStore, chat: Chat, result: AppendResult): Promise<void> {
  const members = chat.members[0] === chat.members[1] ? [chat.members[0]] : chat.members;
  await Promise.all(members.map((member) => recordFor(store, member, chat.id, result)));
}

async function recordFor(store: MessageStore, member: string, chatId: string, result: AppendResult): Promise<void> {
  const { message } = result;
  // A replay does not know what preceded its message: -1 matches no record, so a record not
  // yet past the message catches up below.
  let outcome = await store.members.record(member, chatId, [message], result.replayed ? -1n : result.previous);
  for (let round = 0; !outcome.recorded; round++) {
    if (round === maxRounds) throw new ConnectError("the chat list could not be brought up to date; retry", Code.Unavailable);
    const missed = await missedSince(store, chatId, outcome.at, message);
    outcome = await store.members.record(member, chatId, missed, outcome.at);
  }
}

/** The chat's messages after `at` up to and including `message`, oldest first. */
async function missedSince(store: MessageStore, chatId: string, at: bigint, message: StoredMessage): Promise<StoredMessage[]> {
  const page = await store.page(chatId, { cursor: message.sendTime, limit: catchUpLimit, reverse: true });
  const missed = page.messages.filter((stored) => stored.sendTime > at).reverse();
  // Retention may have removed the message since; it is still this send's to record.
  return missed.at(-1)?.sendTime === message.sendTime ? missed : [...missed, message];
}
