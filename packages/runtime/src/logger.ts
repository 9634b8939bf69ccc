import { trace } from "@opentelemetry/api";
import { pino, type Logger } from "pino";
import { serializeError } from "./error-serializer.js";

export type { Logger } from "pino";

export const logLevels = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
export type LogLevel = (typeof logLevels)[number];

export const logFormats = ["json", "pretty"] as const;
export type LogFormat = (typeof logFormats)[number];

/** trace_id and span_id of the span active where a line is logged, so a log line leads to its trace. */
function activeSpanIds(): Record<string, string> {
  const span = trace.getActiveSpan();
  if (!span) return {};
  const { traceId, spanId } = span.spanContext();
  return { trace_id: traceId, span_id: spanId };
}

/**
 * JSON lines on stdout, one object per event, tagged with the service name and the active
 * trace. "pretty" renders them for a terminal instead (LOG_FORMAT=pretty).
 */
export function createLogger(service: string, level: LogLevel, format: LogFormat = "json"): Logger {
  return pino({
    name: service,
    level,
    base: { service },
    mixin: activeSpanIds,
    serializers: { err: serializeError },
    ...(format === "pretty" ? { transport: { target: "pino-pretty", options: { colorize: true } } } : {}),
  });
}
