/** Summary of a set of numbers: the median of the runs and their spread. */
export interface Spread {
  readonly median: number;
  readonly min: number;
  readonly max: number;
}

/** The p-th percentile (0–100) of values sorted ascending, nearest rank; NaN when empty. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))] as number;
}

export function spread(values: readonly number[]): Spread {
  const finite = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (finite.length === 0) return { median: Number.NaN, min: Number.NaN, max: Number.NaN };
  const middle = Math.floor(finite.length / 2);
  const median =
    finite.length % 2 === 1 ? (finite[middle] as number) : ((finite[middle - 1] as number) + (finite[middle] as number)) / 2;
  return { median, min: finite[0] as number, max: finite[finite.length - 1] as number };
}

/** Latency percentiles in milliseconds from raw samples (sorted in place). */
export function latencySummary(samplesMs: Float64Array) {
  samplesMs.sort();
  return {
    p50: percentile(samplesMs, 50),
    p90: percentile(samplesMs, 90),
    p99: percentile(samplesMs, 99),
    max: samplesMs.length > 0 ? (samplesMs[samplesMs.length - 1] as number) : Number.NaN,
  };
}

/** A growable list of latency samples, bounded so a runaway run cannot eat the memory. */
export class Samples {
  #values = new Float64Array(1 << 16);
  #length = 0;
  /** Samples past the bound are dropped and counted here. */
  dropped = 0;

  readonly #bound: number;

  constructor(bound = 20_000_000) {
    this.#bound = bound;
  }

  push(value: number): void {
    if (this.#length === this.#values.length) {
      if (this.#length >= this.#bound) {
        this.dropped++;
        return;
      }
      const grown = new Float64Array(Math.min(this.#bound, this.#values.length * 2));
      grown.set(this.#values);
      this.#values = grown;
    }
    this.#values[this.#length++] = value;
  }

  get length(): number {
    return this.#length;
  }

  /** A copy of the samples taken so far. */
  toArray(): Float64Array {
    return this.#values.slice(0, this.#length);
  }
}
