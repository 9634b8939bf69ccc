import { createLogger, runUntilSignal, type Logger } from "@chat/runtime";
import { loadConfig } from "./config.js";
import { start } from "./server.js";

let logger: Logger | undefined;
await runUntilSignal(
  async () => {
    const config = loadConfig();
    logger = createLogger("chat-message", config.logLevel);
    return start(config, logger);
  },
  () => logger ?? createLogger("chat-message", "info"),
);
