export { Subscriber, type FeedReader, type LiveEvent, type LiveMessage, type Positioned, type ResetReason } from "./subscriber.js";
export { memberResetMessages, resetMessages } from "./reset-messages.js";
