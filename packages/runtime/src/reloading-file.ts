import { readFile } from "node:fs/promises";

export interface ReloadingFileOptions<T> {
  /** The file to re-read, e.g. a mounted Kubernetes Secret, which the kubelet updates in place. */
  readonly file: string;
  /** What the file held when the process started. */
  readonly initial: T;
  /** The value of the file's text; throws on a malformed one. */
  readonly parse: (text: string) => T;
  readonly equal: (a: T, b: T) => boolean;
  /** Least time between two reads. */
  readonly maxAgeMs: number;
  readonly now?: () => number;
  /** Called after a read that found a different value. */
  readonly onChange?: (value: T, previous: T) => void;
  /** Called when a read fails or finds a malformed value; the last good value stays. */
  readonly onError?: (error: unknown) => void;
}

/**
 * A value read from a file that may change while the process runs. `current` is the last
 * good value; `refresh()` re-reads the file when the last read is older than `maxAgeMs`,
 * cheap enough to call on every request. A file that vanishes or turns malformed (caught
 * mid-edit, say) keeps the last good value, so a bad edit never takes a running process down.
 */
export class ReloadingFile<T> {
  readonly #options: ReloadingFileOptions<T>;
  readonly #now: () => number;
  #value: T;
  #readAt: number;
  #reading: Promise<void> | undefined;

  constructor(options: ReloadingFileOptions<T>) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#value = options.initial;
    this.#readAt = this.#now();
  }

  get current(): T {
    return this.#value;
  }

  /**
   * Starts a read when the last is older than maxAgeMs at `now`; resolves when it is done
   * (undefined: none needed).
   */
  refresh(now: number = this.#now()): Promise<void> | undefined {
    if (this.#reading !== undefined) return this.#reading;
    if (now - this.#readAt < this.#options.maxAgeMs) return undefined;
    this.#readAt = now;
    this.#reading = this.#read().finally(() => (this.#reading = undefined));
    return this.#reading;
  }

  async #read(): Promise<void> {
    const { file, parse, equal, onChange, onError } = this.#options;
    try {
      const value = parse((await readFile(file, "utf8")).replace(/\r?\n$/, ""));
      if (equal(value, this.#value)) return;
      const previous = this.#value;
      this.#value = value;
      onChange?.(value, previous);
    } catch (error) {
      onError?.(error);
    }
  }
}
