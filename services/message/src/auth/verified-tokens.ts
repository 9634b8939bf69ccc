/**
 * Assertions already verified, each until it expires, so a call whose assertion was seen
 * before costs a map lookup instead of an HMAC and a JWT parse. Bounded: when full, expired
 * entries go first, then the oldest. Only verified assertions enter, so callers without a
 * key cannot fill it; the edge replicas hold one or two live assertions each.
 */
export class VerifiedTokens {
  readonly #expiresAt = new Map<string, number>();
  readonly #maxEntries: number;
  readonly #now: () => number;

  constructor({ maxEntries = 256, now = Date.now }: { maxEntries?: number; now?: () => number } = {}) {
    this.#maxEntries = maxEntries;
    this.#now = now;
  }

  /** Whether `token` was verified and has not expired yet. */
  has(token: string): boolean {
    const expiresAt = this.#expiresAt.get(token);
    if (expiresAt === undefined) return false;
    if (this.#now() < expiresAt) return true;
    this.#expiresAt.delete(token);
    return false;
  }

  /** Remembers a verified `token` until `expiresAt` (ms since the epoch). */
  add(token: string, expiresAt: number): void {
    if (expiresAt <= this.#now()) return;
    this.#expiresAt.delete(token);
    if (this.#expiresAt.size >= this.#maxEntries) this.#evict();
    this.#expiresAt.set(token, expiresAt);
  }

  /** Forgets every token, e.g. when the accepted keys change. */
  clear(): void {
    this.#expiresAt.clear();
  }

  get size(): number {
    return this.#expiresAt.size;
  }

  #evict(): void {
    const now = this.#now();
    for (const [token, expiresAt] of this.#expiresAt) if (expiresAt <= now) this.#expiresAt.delete(token);
    // Map iteration follows insertion order: the first key is the oldest.
    if (this.#expiresAt.size >= this.#maxEntries) this.#expiresAt.delete(this.#expiresAt.keys().next().value!);
  }
}
