import { runService } from "@chat/runtime";
import { loadConfig } from "./config.js";
import { start } from "./server.js";

await runService("chat-message", () => loadConfig(), start);
