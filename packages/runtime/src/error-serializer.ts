import { stdSerializers } from "pino";

type Serialized = Record<string, unknown>;

/**
 * pino's error serializer, minus the arguments of failed Redis commands: ioredis attaches
 * the command to its errors, and those arguments are an AUTH password or users' messages.
 * The command name stays, which is what a reader of the log needs.
 */
export function serializeError(error: unknown): unknown {
  try {
    const serialized = stdSerializers.err(error as Error) as unknown;
    if (serialized === error || serialized === null || typeof serialized !== "object") return serialized;
    scrub(serialized as Serialized, Object.getPrototypeOf(serialized) as object, 0);
    return serialized;
  } catch {
    // Logging must never throw; without a safe copy, say only what kind of error it was.
    return { type: error instanceof Error ? error.name : typeof error, message: "error could not be serialized" };
  }
}

// Only objects the serializer made are changed (the top error and nested errors); the
// logged error itself is left alone.
function scrub(serialized: Serialized, errorPrototype: object, depth: number): void {
  if (depth > 8) return;
  for (const [key, value] of Object.entries(serialized)) {
    if (key === "command" && value !== null && typeof value === "object") {
      serialized[key] = { name: (value as { name?: unknown }).name };
    } else if (value !== null && typeof value === "object" && Object.getPrototypeOf(value) === errorPrototype) {
      scrub(value as Serialized, errorPrototype, depth + 1);
    } else if (Array.isArray(value)) {
      for (const item of value) {
        if (item !== null && typeof item === "object" && Object.getPrototypeOf(item) === errorPrototype) {
          scrub(item as Serialized, errorPrototype, depth + 1);
        }
      }
    }
  }
}
