import { pino, type Logger } from "pino";

export type { Logger } from "pino";

export const logLevels = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
export type LogLevel = (typeof logLevels)[number];

/** JSON lines on stdout, one object per event, tagged with the service name. */
export function createLogger(service: string, level: LogLevel): Logger {
  return pino({ name: service, level, base: { service } });
}
