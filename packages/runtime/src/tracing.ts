import { register } from "node:module";
import type { Instrumentation } from "@opentelemetry/instrumentation";
import { NodeSDK } from "@opentelemetry/sdk-node";
import { createAddHookMessageChannel } from "import-in-the-middle";

export interface TracingOptions {
  /** OTEL_SERVICE_NAME when the environment does not set one. */
  readonly defaultServiceName: string;
  /** Built after the module hook is in place, so the modules they patch are hooked. */
  readonly instrumentations: () => Instrumentation[];
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

  // Only modules that an instrumentation hooks go through the ESM loader hook.
  const { registerOptions, waitForAllMessagesAcknowledged } = createAddHookMessageChannel();
  register("import-in-the-middle/hook.mjs", import.meta.url, registerOptions);
  const sdk = new NodeSDK({ instrumentations: options.instrumentations() });
  sdk.start();
  await waitForAllMessagesAcknowledged();
}
