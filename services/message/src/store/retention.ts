/** How much of each chat's history is kept. 0 turns a limit off; both off keeps everything. */
export interface Retention {
  /** Most messages kept per chat: each send removes the oldest beyond it. */
  readonly maxMessages: number;
  /** Longest a message is kept, in seconds: older ones are never returned, and are removed. */
  readonly maxAgeSeconds: number;
}

export const keepEverything: Retention = { maxMessages: 0, maxAgeSeconds: 0 };

/**
 * The send_time (µs) from which messages are still retained by age at `nowUs`, 0n when age
 * is unlimited. Reads start there, so a message past its age is never returned, even before
 * the next send in its chat removes it.
 */
export function retainedSince(retention: Retention, nowUs: bigint): bigint {
  if (retention.maxAgeSeconds === 0) return 0n;
  const since = nowUs - BigInt(retention.maxAgeSeconds) * 1_000_000n;
  return since > 0n ? since : 0n;
}
