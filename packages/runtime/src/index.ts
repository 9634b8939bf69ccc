export { ConfigError, envVar, readEnv } from "./env.js";
export { createLogger, logLevels, type LogLevel, type Logger } from "./logger.js";
export { runService, runUntilSignal, type Running } from "./lifecycle.js";
export { listen } from "./listen.js";
export { drainConnections, trackSessions } from "./http-shutdown.js";
