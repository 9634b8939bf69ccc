// A chat's messages as the log shows them: oldest first, each once.
import type { Message } from "./types.js";

/** `known` and `more` together, oldest first; a message (its send_time) appears once. */
export function mergeMessages(known: Message[], more: Message[]): Message[] {
  const bySendTime = new Map<number, Message>();
  for (const message of known) bySendTime.set(message.send_time, message);
  for (const message of more) bySendTime.set(message.send_time, message);
  return [...bySendTime.values()].sort((a, b) => a.send_time - b.send_time);
}

/** The newest message `sender` wrote, if any. */
export function lastFrom(messages: Message[], sender: string): Message | undefined {
  return messages.findLast((message) => message.sender === sender);
}
