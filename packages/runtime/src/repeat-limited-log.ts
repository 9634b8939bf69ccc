import type { Logger } from "pino";

/** Levels repeated failures are logged at. */
export type RepeatLevel = "warn" | "error";

/**
 * Logs failures that can repeat per request or per retry at most once per kind and interval:
 * the first occurrence in full (with its error and stack), then, while the kind keeps
 * failing, one summary line per interval with the count of occurrences left out.
 */
export interface RepeatLimitedLog {
  /** Logs this occurrence of `kind`, or counts it when that kind was logged within the interval. */
  log(level: RepeatLevel, kind: string, fields: Record<string, unknown>, message: string): void;
  /** Logs the summaries still pending and stops their timers; for shutdown. */
  flush(): void;
}

export interface RepeatLimitOptions {
  /** Length of one interval; 0 logs every occurrence. */
  readonly intervalMs: number;
  /** Kinds tracked at once; occurrences of further kinds share one window, so memory stays bounded. */
  readonly maxKinds?: number;
}

interface Window {
  readonly level: RepeatLevel;
  readonly message: string;
  suppressed: number;
  lastError?: string;
  timer: NodeJS.Timeout;
}

const overflowKind = "other";

function errorMessage(fields: Record<string, unknown>): string | undefined {
  const error = fields.err;
  if (error === undefined) return undefined;
  return error instanceof Error ? error.message : String(error);
}

/** Wraps `logger` so that each kind of repeated failure is logged at most once per interval. */
export function limitRepeats(logger: Logger, options: RepeatLimitOptions): RepeatLimitedLog {
  const { intervalMs, maxKinds = 1_000 } = options;
  const windows = new Map<string, Window>();

  const summarize = (kind: string, window: Window) => {
    if (window.suppressed === 0) return false;
    const seconds = Math.round(intervalMs / 100) / 10;
    logger[window.level](
      { repeat_kind: kind, suppressed: window.suppressed, interval_ms: intervalMs, last_error: window.lastError },
      `${window.message} (${window.suppressed} more in the last ${seconds} s)`,
    );
    window.suppressed = 0;
    return true;
  };

  // A window with a summary stays open for one more interval, so a steady failure costs one
  // line per interval; a window that saw nothing more closes, and the next failure is logged in full.
  const closeOrRenew = (kind: string) => {
    const window = windows.get(kind);
    if (window === undefined) return;
    if (summarize(kind, window)) window.timer = setTimeout(() => closeOrRenew(kind), intervalMs).unref();
    else windows.delete(kind);
  };

  return {
    log(level, kind, fields, message) {
      if (intervalMs <= 0) return logger[level](fields, message);
      const key = windows.has(kind) || windows.size < maxKinds ? kind : overflowKind;
      const open = windows.get(key);
      if (open !== undefined) {
        open.suppressed++;
        open.lastError = errorMessage(fields) ?? open.lastError;
        return;
      }
      logger[level]({ ...fields, repeat_kind: key }, message);
      const timer = setTimeout(() => closeOrRenew(key), intervalMs).unref();
      windows.set(key, { level, message, suppressed: 0, timer });
    },
    flush() {
      for (const [kind, window] of windows) {
        clearTimeout(window.timer);
        summarize(kind, window);
      }
      windows.clear();
    },
  };
}
