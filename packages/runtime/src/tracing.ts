import { register } from "node:module";
import type { Instrumentation } from "@opentelemetry/instrumentation";
import { NodeSDK } from "@opentelemetry/sdk-node";
import { createAddHookMessageChannel } from "import-in-the-middle";

export interface TracingOptions {
  /** OTEL_SERVICE_NAME when the environment does not set one. */
  readonly defaultServiceName: string;
  /**
   * Built after the module hook is in place, so the modules they patch are hooked. Without
   * any, no hook is put in place.
   */
  readonly instrumentations?: () => Instrumentation[];
}

/**
 * The instrumentations not named in OTEL_NODE_DISABLED_INSTRUMENTATIONS, a comma-separated
 * list of short names as OpenTelemetry's Node auto-instrumentation takes them ("http", "koa",
 * "ioredis": the package name after "@opentelemetry/instrumentation-").
 */
function enabled(instrumentations: Instrumentation[], disabled = ""): Instrumentation[] {
  const names = new Set(disabled.split(",").map((name) => name.trim()).filter(Boolean));
  return instrumentations.filter((instrumentation) => !names.has(instrumentation.instrumentationName.replace(/^@opentelemetry\/instrumentation-/, "")));
}

/**
 * Starts the OpenTelemetry SDK from the standard OTEL_* variables. Meant for a module given
 * to `node --import`, so it runs before any instrumented module is loaded.
 *
 * Without an OTLP endpoint (and no explicit OTEL_TRACES_EXPORTER) the SDK registers no
 * tracer provider: no spans are recorded and nothing is printed about exports, but incoming
 * trace context still flows on, so logs and calls keep a caller's trace id. Metrics and logs are not exported over OTLP
 * unless asked for: Prometheus metrics and JSON logs cover them.
 */
export async function startTracing(options: TracingOptions): Promise<void> {
  const env = process.env;
  env.OTEL_SERVICE_NAME ??= options.defaultServiceName;
  if (!env.OTEL_EXPORTER_OTLP_ENDPOINT && !env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) {
    env.OTEL_TRACES_EXPORTER ??= "none";
  }
  env.OTEL_METRICS_EXPORTER ??= "none";
  env.OTEL_LOGS_EXPORTER ??= "none";
  if (env.OTEL_SDK_DISABLED === "true") return;

  if (options.instrumentations === undefined) {
    new NodeSDK({ instrumentations: [] }).start();
    return;
  }
  // Only modules that an instrumentation hooks go through the ESM loader hook.
  const { registerOptions, waitForAllMessagesAcknowledged } = createAddHookMessageChannel();
  register("import-in-the-middle/hook.mjs", import.meta.url, registerOptions);
  const sdk = new NodeSDK({ instrumentations: enabled(options.instrumentations(), env.OTEL_NODE_DISABLED_INSTRUMENTATIONS) });
  sdk.start();
  await waitForAllMessagesAcknowledged();
}
