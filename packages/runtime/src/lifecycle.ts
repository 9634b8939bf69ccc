import type { Logger } from "pino";
import { ConfigError } from "./env.js";
import { createLogger, type LogFormat, type LogLevel } from "./logger.js";
import { trace } from "@opentelemetry/api";

/** A started server: where it listens and how to stop it gracefully. */
export interface Running {
  readonly url: string;
  close(): Promise<void>;
  /** Settles when the server finds it must not go on (a dependency turned unsafe): it then stops and exits non-zero. */
  readonly failure?: Promise<Error>;
}

/** Exports the spans still buffered and stops tracing; a no-op when tracing never started. */
async function flushTraces(): Promise<void> {
  const global = trace.getTracerProvider() as { getDelegate?: () => unknown };
  const provider = (global.getDelegate?.() ?? global) as { shutdown?: () => Promise<void> };
  await provider.shutdown?.();
}

/**
 * Runs a service until SIGTERM or SIGINT, then closes it gracefully once. Exits non-zero
 * when startup fails (with the reason on stderr) or when closing fails.
 */
async function runUntilSignal(
  start: () => Promise<Running>,
  logger: () => Logger,
): Promise<void> {
  let running: Running;
  try {
    running = await start();
  } catch (error) {
    const reason = error instanceof ConfigError ? error.message : String(error);
    process.stderr.write(`startup failed: ${reason}\n`);
    if (!(error instanceof ConfigError)) logger().fatal({ err: error }, "startup failed");
    process.exit(1);
  }
  let stopping = false;
  const stop = (exitCode: number) => {
    if (stopping) return;
    stopping = true;
    running
      .close()
      .then(flushTraces)
      .then(
        () => {
          logger().info("stopped");
          process.exit(exitCode);
        },
        (error: unknown) => {
          logger().error({ err: error }, "shutdown failed");
          process.exit(1);
        },
      );
  };
  const onSignal = (signal: NodeJS.Signals) => {
    if (!stopping) logger().info({ signal }, "shutting down");
    stop(0);
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
  void running.failure?.then((error) => {
    logger().fatal({ err: error }, `stopping: ${error.message}`);
    stop(1);
  });
}

/**
 * The whole of a service's main: read its config, start it with a logger named after the
 * service, and run it until a signal.
 */
export async function runService<
  Config extends { readonly logLevel: LogLevel; readonly logFormat: LogFormat },
>(
  service: string,
  loadConfig: () => Config,
  start: (config: Config, logger: Logger) => Promise<Running>,
): Promise<void> {
  let logger: Logger | undefined;
  await runUntilSignal(
    async () => {
      const config = loadConfig();
      logger = createLogger(service, config.logLevel, config.logFormat);
      return start(config, logger);
    },
    () => logger ?? createLogger(service, "info"),
  );
}
