/**
 * Documented output against real output. Numbers the server assigns (send_time, next_cursor,
 * read_cursor, and the opaque next_cursor of a chat list)
 * cannot be written down in advance: a documented one stands for the real one, bound the
 * first time it is compared, and must then be the same real number wherever it appears.
 */
export class AssignedNumbers {
  private readonly real = new Map<string, string>();

  /** `command` with every bound documented number replaced by the real one. */
  substitute(command: string): string {
    return command.replace(/\b\d{6,}\b/g, (digits) => this.real.get(digits) ?? digits);
  }

  /** `documented` with its assigned numbers replaced by the real ones found at the same place in `actual`. */
  bind(documented: unknown, actual: unknown, key = ""): unknown {
    if (Array.isArray(documented)) {
      return documented.map((item, i) => this.bind(item, Array.isArray(actual) ? actual[i] : undefined));
    }
    if (documented !== null && typeof documented === "object") {
      const source = actual !== null && typeof actual === "object" ? (actual as Record<string, unknown>) : {};
      return Object.fromEntries(Object.entries(documented).map(([name, value]) => [name, this.bind(value, source[name], name)]));
    }
    if (!/^(send_?time|next_?cursor|history_?start|read_?cursor)$/i.test(key)) return documented;
    const written = String(documented);
    // A number the server assigned, or an opaque page cursor (a chat list's next_cursor).
    const assigned = /^next_?cursor$/i.test(key) ? /^([1-9]\d*|[A-Za-z0-9_-]{8,})$/ : /^[1-9]\d*$/;
    if (!assigned.test(written) || !assigned.test(String(actual))) return documented;
    const bound = this.real.get(written);
    if (bound === undefined) {
      if ([...this.real.values()].includes(String(actual))) return documented; // two documented numbers, one real one
      this.real.set(written, String(actual));
      return actual;
    }
    return bound === String(actual) ? actual : documented;
  }
}

function parseJson(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false };
  }
}

/** The documented output with assigned numbers bound, in the form to compare with `actual`. */
export function expectedFor(documented: readonly string[], actual: string, numbers: AssignedNumbers): { expected: unknown; actual: unknown } {
  const whole = { doc: parseJson(documented.join("\n")), real: parseJson(actual) };
  if (documented.length > 0 && whole.doc.ok && whole.real.ok) {
    return { expected: numbers.bind(whole.doc.value, whole.real.value), actual: whole.real.value };
  }
  // Line by line: a JSON line is compared as JSON, any other line as text.
  const realLines = actual === "" ? [] : actual.split("\n");
  const expected: unknown[] = [];
  const compared: unknown[] = [];
  for (let i = 0; i < Math.max(documented.length, realLines.length); i++) {
    const doc = parseJson(documented[i] ?? "");
    const real = parseJson(realLines[i] ?? "");
    if (doc.ok && real.ok && typeof doc.value === "object" && doc.value !== null) {
      expected.push(numbers.bind(doc.value, real.value));
      compared.push(real.value);
    } else {
      expected.push(documented[i]);
      compared.push(realLines[i]);
    }
  }
  return { expected, actual: compared };
}
