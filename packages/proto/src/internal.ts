// Messages the message service keeps for itself (not part of the API), e.g. what a
// Subscribe resume token holds.
import "./text-encoding.js";
export * from "./gen/chat/internal/v1/resume_token_pb.js";
export * from "./resume-token.js";
