import { isSpanContextValid, trace } from "@opentelemetry/api";
import { pino, type Logger } from "pino";
import { serializeError } from "./error-serializer.js";

export type { Logger } from "pino";

export const logLevels = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
export type LogLevel = (typeof logLevels)[number];

export const logFormats = ["json", "pretty"] as const;
export type LogFormat = (typeof logFormats)[number];

/** trace_id and span_id of the span active where a line is logged, so a log line leads to its trace. */
function activeSpanIds(): Record<string, string> {
  const context = trace.getActiveSpan()?.spanContext();
  // With tracing off (or no exporter, so no spans are recorded) the ids are all zeros: leave them out.
  if (context === undefined || !isSpanContextValid(context)) return {};
  return { trace_id: context.traceId, span_id: context.spanId };
}

// One line per event, as a terminal reader wants it; colours only when stdout is a terminal.
const prettyOptions = () => ({
  colorize: process.stdout.isTTY === true,
  singleLine: true,
  translateTime: "SYS:HH:MM:ss.l",
  ignore: "pid,hostname,service",
});

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
    ...(format === "pretty" ? { transport: { target: "pino-pretty", options: prettyOptions() } } : {}),
  });
}
