// First: configures how protobuf-es decodes strings, before anything is decoded.
import "./text-encoding.js";
export * from "./gen/chat/v1/message_pb.js";
export * from "./gen/chat/v1/message_service_pb.js";
export * from "./chat-user.js";
export * from "./send-batch-item.js";
export * from "./idempotency-key.js";
