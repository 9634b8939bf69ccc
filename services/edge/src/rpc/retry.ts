import { setTimeout as sleep } from "node:timers/promises";
import { Code, ConnectError } from "@connectrpc/connect";

export interface RetryPolicy {
  /** Most attempts per call, the first included. */
  readonly attempts: number;
  /** Deadline of one attempt. */
  readonly attemptTimeoutMs: number;
  /** Deadline of the whole call, all attempts and pauses included. */
  readonly deadlineMs: number;
  /** Base of the exponential pause between attempts (full jitter). */
  readonly backoffMs: number;
}

// The service could not be reached or could not serve the call: another attempt, maybe
// on another replica, may succeed. Anything else would fail the same way again.
const retryable = new Set([Code.Unavailable, Code.DeadlineExceeded]);

/**
 * Calls `attempt` until it succeeds, fails with a code that cannot improve, or the
 * attempts or the deadline run out. Only for calls that are safe to repeat: reads, and
 * sends that carry an idempotency key.
 */
export async function withRetries<T>(policy: RetryPolicy, attempt: (timeoutMs: number) => Promise<T>): Promise<T> {
  const deadline = Date.now() + policy.deadlineMs;
  for (let tries = 1; ; tries++) {
    const remaining = deadline - Date.now();
    try {
      return await attempt(Math.max(1, Math.min(policy.attemptTimeoutMs, remaining)));
    } catch (error) {
      const pause = Math.random() * policy.backoffMs * 2 ** (tries - 1);
      const code = ConnectError.from(error).code;
      if (tries >= policy.attempts || !retryable.has(code) || Date.now() + pause >= deadline) throw error;
      await sleep(pause);
    }
  }
}
