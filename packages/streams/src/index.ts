export { Subscriber, type FeedReader, type LiveEvent, type LiveMessage, type ResetReason } from "./subscriber.js";
export { resetMessages } from "./reset-messages.js";
