import { Code, ConnectError } from "@connectrpc/connect";
import { maxRetryWindowMs } from "./store.js";

/**
 * How retried sends with a retry key are found, the same in every engine. A retry looks for
 * the first attempt's message among those stored since it was sent, by the store's clock;
 * the allowance covers the clocks of two Redis nodes after a failover.
 */
export const retryClockAllowanceMs = 5_000;

/** Most messages a retry looks through; a chat busier than this within the window cannot confirm. */
export const maxRetryScan = 10_000;

/**
 * Life of the record a retry leaves when it stored the message itself, so that a first
 * attempt still on its way (delayed behind the retry) finds it and does not store a copy.
 */
export const retryRecordMs = 2 * maxRetryWindowMs;

/** The send_time (µs) from which a retry sent `sinceFirstAttemptMs` after its first attempt looks. */
export function retrySearchFrom(nowUs: bigint, sinceFirstAttemptMs: number): bigint {
  return nowUs - BigInt(sinceFirstAttemptMs + retryClockAllowanceMs) * 1_000n;
}

export function retryScanExhausted(): ConnectError {
  return new ConnectError(
    `cannot confirm whether an earlier attempt of this send was stored: the chat holds more than ${maxRetryScan} messages since it; send it with a client_message_id to retry safely`,
    Code.Unavailable,
  );
}
