export { ConfigError, envVar, readEnv, serviceEnvShape, type EnvSection } from "./env.js";
export { createLogger, type LogFormat, type LogLevel, type Logger } from "./logger.js";
export { limitRepeats, type RepeatLimitedLog } from "./repeat-limited-log.js";
export { createMetricsRegistry, startMetricsServer } from "./metrics.js";
export { httpStatusOfCode, rpcCodeName } from "./rpc-codes.js";
export { tracingClientInterceptor, tracingServerInterceptor } from "./rpc-tracing.js";
export { onStreamEnd } from "./stream-responses.js";
export { runService, type Running } from "./lifecycle.js";
export { listen } from "./listen.js";
export { drainConnections, trackSessions } from "./http-shutdown.js";
export { clientDeadlinesEnvShape, clientDeadlinesFrom, http1DeadlineOptions, type ClientDeadlines } from "./client-deadlines.js";
export { discardRequestBody } from "./discard-request-body.js";
export { createRedisClient, type RedisClient, type RedisClientOptions } from "./redis-client.js";
export { readSecret } from "./secrets.js";
export {
  redisAccessFrom,
  redisEnvShape,
  redisTargetFrom,
  type RedisAccess,
  type RedisTarget,
} from "./redis-env.js";
export { ReloadingFile, type ReloadingFileOptions } from "./reloading-file.js";
export { parseServiceKey, parseServiceKeys, sameServiceKeys, serviceCredential, type ServiceKey } from "./service-keys.js";
