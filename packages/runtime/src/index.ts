export { ConfigError, envVar, readEnv } from "./env.js";
export { createLogger, logLevels, type LogLevel, type Logger } from "./logger.js";
export { runUntilSignal, type Running } from "./lifecycle.js";
export { closeGracefully, closeHttp2Gracefully, trackSessions } from "./http-shutdown.js";
