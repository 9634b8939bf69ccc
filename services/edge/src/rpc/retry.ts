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

/** What one attempt is told: its deadline, and how long ago the first attempt started. */
export interface Attempt {
  readonly timeoutMs: number;
  /** 0 for the first attempt; for a retry, milliseconds since the first attempt started. */
  readonly sinceFirstMs: number;
}

/**
 * Calls `attempt` until it succeeds, fails with a code that cannot improve, the attempts or
 * the deadline run out, or `signal` is aborted. Only for calls that are safe to repeat:
 * reads, and sends that carry an idempotency key or a retry key.
 */
export async function withRetries<T>(
  policy: RetryPolicy,
  signal: AbortSignal | undefined,
  attempt: (attempt: Attempt) => Promise<T>,
): Promise<T> {
  const started = performance.now();
  const deadline = Date.now() + policy.deadlineMs;
  for (let tries = 1; ; tries++) {
    const remaining = deadline - Date.now();
    const sinceFirstMs = tries === 1 ? 0 : Math.max(1, Math.ceil(performance.now() - started));
    try {
      return await attempt({ timeoutMs: Math.max(1, Math.min(policy.attemptTimeoutMs, remaining)), sinceFirstMs });
    } catch (error) {
      const pause = Math.random() * policy.backoffMs * 2 ** (tries - 1);
      const code = ConnectError.from(error).code;
      if (tries >= policy.attempts || !retryable.has(code) || Date.now() + pause >= deadline || signal?.aborted) throw error;
      await sleep(pause, undefined, { signal }).catch(() => {
        throw error;
      });
    }
  }
}
