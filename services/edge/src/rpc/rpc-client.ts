import type { Client } from "@connectrpc/connect";
import type { MessageService } from "@chat/proto";

/**
 * The message service as the API routes call it: a Connect client's unary methods (sends
 * may go through the SendBatcher, which has Send's signature).
 */
export type MessageClient = Pick<Client<typeof MessageService>, "send" | "pull" | "listChats" | "markRead">;
