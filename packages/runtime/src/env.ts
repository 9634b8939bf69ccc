import { z } from "zod";
import { logFormats, logLevels } from "./logger.js";

/** A bad environment variable, reported by name with what a valid value looks like. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

type Env = Readonly<Record<string, string | undefined>>;

// An empty variable counts as unset, as in `FOO= node main.js`.
const unsetWhenEmpty = (value: unknown) => (value === "" ? undefined : value);

export const envVar = {
  integer(fallback: number, min: number, max: number) {
    return z.preprocess(
      unsetWhenEmpty,
      z.coerce
        .number({ error: `must be an integer from ${min} to ${max}` })
        .int({ error: `must be an integer from ${min} to ${max}` })
        .min(min, { error: `must be at least ${min}` })
        .max(max, { error: `must be at most ${max}` })
        .default(fallback),
    );
  },
  port(fallback: number) {
    return envVar.integer(fallback, 0, 65_535);
  },
  text(fallback: string) {
    return z.preprocess(unsetWhenEmpty, z.string().default(fallback));
  },
  optionalText() {
    return z.preprocess(unsetWhenEmpty, z.string().optional());
  },
  url(fallback: string, protocols: readonly string[]) {
    return z.preprocess(
      unsetWhenEmpty,
      z
        .string()
        .meta({ format: "uri" })
        .default(fallback)
        .refine((value) => URL.canParse(value) && protocols.includes(new URL(value).protocol), {
          error: `must be a URL starting with ${protocols.map((p) => `${p}//`).join(" or ")}`,
        }),
    );
  },
  oneOf<const T extends readonly [string, ...string[]]>(values: T, fallback: T[number]) {
    return z.preprocess(
      unsetWhenEmpty,
      z.enum(values, { error: `must be one of ${values.join(", ")}` }).default(fallback),
    );
  },
};

/**
 * Variables of one topic, as a generated configuration reference lists them: every variable
 * of `shape` carries its meaning in zod's `.describe()`.
 */
export interface EnvSection {
  readonly title: string;
  readonly shape: z.ZodRawShape;
}

/**
 * Reads the variables named by `shape` from `env`. Throws one ConfigError naming every bad
 * variable, its value and what is expected, so a misconfigured process fails at startup.
 */
export function readEnv<Shape extends z.ZodRawShape>(
  shape: Shape,
  env: Env,
): z.output<z.ZodObject<Shape>> {
  const result = z.object(shape).safeParse(env);
  if (result.success) return result.data;
  const lines = result.error.issues.map((issue) => {
    const name = String(issue.path[0] ?? "?");
    return `  ${name}=${JSON.stringify(env[name] ?? "")}: ${issue.message}`;
  });
  throw new ConfigError(`invalid configuration:\n${lines.join("\n")}`);
}

/** The variables every service reads: where it listens, its metrics port, shutdown and logs. */
export function serviceEnvShape(defaults: { port: number; metricsPort: number }) {
  return {
    HOST: envVar.text("0.0.0.0").describe("address to listen on"),
    PORT: envVar.port(defaults.port).describe("port of the service's API (0 picks a free one)"),
    METRICS_PORT: envVar
      .port(defaults.metricsPort)
      .describe("port of the Prometheus `/metrics` endpoint, never the API port (0 picks a free one)"),
    SHUTDOWN_TIMEOUT_MS: envVar
      .integer(10_000, 0, 600_000)
      .describe("longest wait for in-flight requests after SIGTERM or SIGINT, in milliseconds"),
    LOG_LEVEL: envVar.oneOf(logLevels, "info").describe("least severe level logged; `silent` logs nothing"),
    LOG_FORMAT: envVar
      .oneOf(logFormats, "json")
      .describe("`json`: one JSON object per line; `pretty`: one readable line per event, for a terminal"),
    LOG_REPEAT_INTERVAL_MS: envVar
      .integer(10_000, 0, 3_600_000)
      .describe("a failure that repeats (per request, per retry) is logged once per this interval and kind, then counted; 0 logs every one"),
  };
}
