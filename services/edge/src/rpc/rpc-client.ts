import type { MessageInitShape } from "@bufbuild/protobuf";
import type {
  ListChatsRequestSchema,
  ListChatsResponse,
  MarkReadRequestSchema,
  MarkReadResponse,
  PullRequestSchema,
  PullResponse,
  SendBatchRequestSchema,
  SendBatchResponse,
  SendRequestSchema,
  SendResponse,
} from "@chat/proto";

/** Options of one call: its deadline, and headers to send (the authenticated user). */
export interface CallOptions {
  readonly timeoutMs: number;
  readonly headers?: Record<string, string> | undefined;
}

/** The message service as the API routes call it. */
export interface MessageClient {
  send(request: MessageInitShape<typeof SendRequestSchema>, options: CallOptions): Promise<SendResponse>;
  pull(request: MessageInitShape<typeof PullRequestSchema>, options: CallOptions): Promise<PullResponse>;
  listChats(request: MessageInitShape<typeof ListChatsRequestSchema>, options: CallOptions): Promise<ListChatsResponse>;
  markRead(request: MessageInitShape<typeof MarkReadRequestSchema>, options: CallOptions): Promise<MarkReadResponse>;
}

/** Every method of the message service; a Connect client fits, and so does ConnectUnaryClient. */
export interface RpcClient extends MessageClient {
  sendBatch(request: MessageInitShape<typeof SendBatchRequestSchema>, options: CallOptions): Promise<SendBatchResponse>;
}
