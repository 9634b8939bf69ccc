import type { Continuity } from "./store.js";

/** What an engine knows of a chat, enough to tell whether a position can be read on from. */
export interface ContinuityFacts {
  /** Whether the message at the position is still stored. */
  readonly exists: boolean;
  /** send_time of the oldest message stored, 0n when none is. */
  readonly oldest: bigint;
  /** Whether retention ever removed a message of the chat. */
  readonly removedAny: boolean;
  /** Where reads start by age (retention.ts), 0n when age is unlimited. */
  readonly retainedSince: bigint;
}

/**
 * The same rules in every engine. Retention removes the oldest messages first, so a
 * position whose message is still stored has nothing missing after it; a missing one older
 * than the oldest stored was removed by retention, and one at or after it was lost (the
 * history was rewritten under it: a failover or a restart lost writes). Position 0 (the
 * chat was empty) misses messages only if retention removed some.
 */
export function continuityOf(position: bigint, facts: ContinuityFacts): Continuity {
  if (position > 0n && position < facts.retainedSince) return "trimmed";
  if (position === 0n) return facts.removedAny ? "trimmed" : "ok";
  if (facts.exists) return "ok";
  return facts.oldest > position ? "trimmed" : "lost";
}
