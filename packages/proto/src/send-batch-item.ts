import { chatUserHeader } from "./chat-user.js";

/** What a SendBatchItem carries besides its request: what a Send call carries in headers. */
export interface SendBatchItemContext {
  readonly user?: string;
  readonly traceparent?: string;
  readonly tracestate?: string;
}

// The call header each field stands for.
const headerOf = { user: chatUserHeader, traceparent: "traceparent", tracestate: "tracestate" } as const;
const fields = Object.keys(headerOf) as (keyof typeof headerOf)[];

/** The item fields for a send whose Send call would carry `headers`; "" for each one absent. */
export function sendBatchItemContext(headers: { get(name: string): string | null }): Required<SendBatchItemContext> {
  return {
    user: headers.get(headerOf.user) ?? "",
    traceparent: headers.get(headerOf.traceparent) ?? "",
    tracestate: headers.get(headerOf.tracestate) ?? "",
  };
}

/** The headers a Send call of its own would carry for this item: only the fields that are set. */
export function sendBatchItemHeaders(item: SendBatchItemContext): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const field of fields) {
    const value = item[field];
    if (value) headers[headerOf[field]] = value;
  }
  return headers;
}
