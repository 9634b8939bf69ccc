import { fileURLToPath } from "node:url";
import { envVar, readEnv } from "@chat/runtime";

/** The browser client the edge serves at `/` (WEB_*). */
export interface WebConfig {
  /** Serve the page at all; false leaves `/` to the API's 404 like any unknown route. */
  readonly enabled: boolean;
  /** Directory of the built client: index.html and content-hashed files under assets/. */
  readonly root: string;
}

/**
 * services/web/dist beside this package (from services/edge/dist/web/config.js), where the
 * workspace build writes it and where the edge's image copies it.
 */
export const defaultWebRoot = fileURLToPath(new URL("../../../web/dist", import.meta.url));

export const webEnvShape = {
  WEB_UI: envVar
    .oneOf(["true", "false"], "true")
    .describe("`false` serves no page: `/` and every path outside the API answer 404 as unknown routes do"),
  WEB_ROOT: envVar
    .optionalText()
    .describe("directory of the built web client (index.html, assets/); unset: `services/web/dist` of the installed edge, where the image has it. Without an index.html there the edge warns once and serves no page"),
};

/** Reads the web client's settings; throws ConfigError on a bad value. */
export function loadWebConfig(env: NodeJS.ProcessEnv = process.env): WebConfig {
  const vars = readEnv(webEnvShape, env);
  return { enabled: vars.WEB_UI === "true", root: vars.WEB_ROOT ?? defaultWebRoot };
}
