export * from "./gen/chat/v1/message_pb.js";
export * from "./gen/chat/v1/message_service_pb.js";
