interface Entry {
  readonly token: string;
  readonly expiresAt: number;
}

// A compact JWS ends with its signature; hashing those 43 characters, not the whole token, is
// what a lookup costs. A hit still compares the whole token, so no other token can match.
const signatureOf = (token: string) => token.slice(token.lastIndexOf(".") + 1);

/**
 * Assertions already verified, each until it expires, so a call whose assertion was seen
 * before costs a map lookup instead of an HMAC and a JWT parse. Bounded: when full, expired
 * entries go first, then the oldest. Only verified assertions enter, so callers without a
 * key cannot fill it; the edge replicas hold one or two live assertions each.
 */
export class VerifiedTokens {
  readonly #entries = new Map<string, Entry>();
  readonly #maxEntries: number;
  readonly #now: () => number;

  constructor({ maxEntries = 256, now = Date.now }: { maxEntries?: number; now?: () => number } = {}) {
    this.#maxEntries = maxEntries;
    this.#now = now;
  }

  /** Whether `token` was verified and has not expired by `now` (ms since the epoch). */
  has(token: string, now: number = this.#now()): boolean {
    const signature = signatureOf(token);
    const entry = this.#entries.get(signature);
    if (entry === undefined || entry.token !== token) return false;
    if (now < entry.expiresAt) return true;
    this.#entries.delete(signature);
    return false;
  }

  /** Remembers a verified `token` until `expiresAt` (ms since the epoch). */
  add(token: string, expiresAt: number): void {
    if (expiresAt <= this.#now()) return;
    const signature = signatureOf(token);
    this.#entries.delete(signature);
    if (this.#entries.size >= this.#maxEntries) this.#evict();
    this.#entries.set(signature, { token, expiresAt });
  }

  /** Forgets every token, e.g. when the accepted keys change. */
  clear(): void {
    this.#entries.clear();
  }

  get size(): number {
    return this.#entries.size;
  }

  #evict(): void {
    const now = this.#now();
    for (const [signature, entry] of this.#entries) if (entry.expiresAt <= now) this.#entries.delete(signature);
    // Map iteration follows insertion order: the first key is the oldest.
    if (this.#entries.size >= this.#maxEntries) this.#entries.delete(this.#entries.keys().next().value!);
  }
}
