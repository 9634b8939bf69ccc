/**
 * What is being measured. "baseline" is the single process in bench/baseline; every other
 * variant is the deployed stack (edge → message service → Redis) started as deployed (with
 * `node --import dist/instrumentation.js` when the services have one) plus its own environment
 * and node flags, so tracing on/off, another transport or a profiler is one more entry, e.g.
 * through BENCH_EXTRA_VARIANTS:
 *
 *   [{"name":"stack-otlp","env":{"OTEL_SDK_DISABLED":"false",
 *     "OTEL_EXPORTER_OTLP_ENDPOINT":"http://127.0.0.1:4318"}}]
 */
export interface Variant {
  readonly name: string;
  readonly kind: "baseline" | "stack";
  /** Added to the environment of every process of the variant (over the production defaults). */
  readonly env: Readonly<Record<string, string>>;
  readonly edgeEnv: Readonly<Record<string, string>>;
  readonly messageEnv: Readonly<Record<string, string>>;
  /** node flags placed before the main script, for every process of the variant. */
  readonly nodeArgs: readonly string[];
  readonly edgeNodeArgs: readonly string[];
  readonly messageNodeArgs: readonly string[];
  /** Load the service's built instrumentation module with --import, as deployed (stack only). */
  readonly instrumentation: boolean;
  /** Shown under the table. */
  readonly note: string;
}

/** An OTLP endpoint value that stands for the bench's own sink (see otlp-sink.ts), started when a variant names it. */
export const otlpSinkEndpoint = "bench:otlp-sink";

/** Production settings every measured process starts with. */
export const productionEnv: Readonly<Record<string, string>> = {
  NODE_ENV: "production",
  LOG_LEVEL: "warn",
};

function variant(fields: Partial<Variant> & Pick<Variant, "name" | "kind">): Variant {
  return {
    env: {},
    edgeEnv: {},
    messageEnv: {},
    nodeArgs: [],
    edgeNodeArgs: [],
    messageNodeArgs: [],
    instrumentation: true,
    note: "",
    ...fields,
  };
}

/** Tracing on, spans sampled at `ratio` (as the chart's sampler does) and exported to the bench's sink. */
function exportingTraces(ratio: string): Record<string, string> {
  return {
    OTEL_SDK_DISABLED: "false",
    OTEL_EXPORTER_OTLP_ENDPOINT: otlpSinkEndpoint,
    OTEL_TRACES_SAMPLER: "parentbased_traceidratio",
    OTEL_TRACES_SAMPLER_ARG: ratio,
  };
}

export const builtInVariants: readonly Variant[] = [
  variant({ name: "baseline", kind: "baseline", note: "one process: node:http + ioredis + the same scripts (send.lua, then member-record.lua for each member)" }),
  variant({
    name: "stack",
    kind: "stack",
    env: { OTEL_SDK_DISABLED: "true" },
    note: "edge → Connect RPC → message service → Redis, as deployed; tracing off (OTEL_SDK_DISABLED=true)",
  }),
  // Tracing as the chart deploys it by default: spans created, exported nowhere without an endpoint.
  variant({
    name: "stack-traced",
    kind: "stack",
    env: { OTEL_SDK_DISABLED: "false" },
    note: "the stack with tracing on as deployed by default (spans created, no exporter endpoint)",
  }),
  // Tracing as the chart deploys it with a collector: its sampler and ratio (otel.* in
  // charts/chat/values.yaml), spans exported over OTLP/HTTP, here to a sink in the bench.
  variant({
    name: "stack-otlp",
    kind: "stack",
    env: exportingTraces("0.1"),
    note: "tracing as the chart deploys it with a collector: one trace in ten sampled (the chart's default), exported over OTLP/HTTP to a sink in the bench",
  }),
  // Every trace recorded and exported (otel.tracesSamplerArg: "1.0"). Not run by default.
  variant({
    name: "stack-otlp-all",
    kind: "stack",
    env: exportingTraces("1.0"),
    note: "every trace sampled and exported over OTLP/HTTP (otel.tracesSamplerArg: 1.0)",
  }),
  // Tracing on and every send confirmed by a replica, as the chart sets it. Not run by default;
  // the bench Redis gets a replica when a variant asks for WAIT.
  variant({
    name: "stack-durable",
    kind: "stack",
    env: { OTEL_SDK_DISABLED: "false" },
    messageEnv: { REDIS_WAIT_REPLICAS: "1" },
    note: "tracing on and every send confirmed by a replica (REDIS_WAIT_REPLICAS=1), as the chart sets it",
  }),
];

/** Whether a variant exports spans to the bench's OTLP sink. */
export function exportsToSink(variant: Variant): boolean {
  return variant.env.OTEL_EXPORTER_OTLP_ENDPOINT === otlpSinkEndpoint;
}

/** Whether a variant has sends confirmed by replicas, so the bench Redis needs one. */
export function waitsForReplicas(variant: Variant): boolean {
  return Number(variant.messageEnv.REDIS_WAIT_REPLICAS ?? variant.env.REDIS_WAIT_REPLICAS ?? 0) > 0;
}

/** Run when BENCH_VARIANTS names none: the baseline, the stack traced as deployed and as `make run` ships it, and with tracing off. */
export const defaultVariantNames: readonly string[] = ["baseline", "stack-otlp", "stack-traced", "stack"];

function stringRecord(value: unknown, where: string): Record<string, string> {
  if (value === undefined) return {};
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new Error(`${where} must be an object`);
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, String(item)]));
}

function stringList(value: unknown, where: string): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new Error(`${where} must be an array of strings`);
  return value.map(String);
}

/**
 * Parses BENCH_EXTRA_VARIANTS: a JSON array of variants of the stack (tracing on, profilers,
 * ...). Each starts from the built-in "stack" (so tracing stays off unless its env says
 * OTEL_SDK_DISABLED=false) and adds its own env and node flags.
 */
export function parseExtraVariants(json: string): Variant[] {
  if (json.trim() === "") return [];
  const stackDefaults = builtInVariants.find((candidate) => candidate.name === "stack") as Variant;
  const parsed: unknown = JSON.parse(json);
  if (!Array.isArray(parsed)) throw new Error("BENCH_EXTRA_VARIANTS must be a JSON array");
  return parsed.map((raw: Record<string, unknown>, index) => {
    const where = `BENCH_EXTRA_VARIANTS[${index}]`;
    if (typeof raw.name !== "string" || raw.name === "") throw new Error(`${where}.name is required`);
    return variant({
      name: raw.name,
      kind: "stack",
      env: { ...stackDefaults.env, ...stringRecord(raw.env, `${where}.env`) },
      edgeEnv: stringRecord(raw.edgeEnv, `${where}.edgeEnv`),
      messageEnv: stringRecord(raw.messageEnv, `${where}.messageEnv`),
      nodeArgs: stringList(raw.nodeArgs, `${where}.nodeArgs`),
      edgeNodeArgs: stringList(raw.edgeNodeArgs, `${where}.edgeNodeArgs`),
      messageNodeArgs: stringList(raw.messageNodeArgs, `${where}.messageNodeArgs`),
      instrumentation: raw.instrumentation !== false,
      note: typeof raw.note === "string" ? raw.note : "",
    });
  });
}

/** The variants to run: those named, else baseline, stack and every extra one. */
export function selectVariants(extraJson: string, names: readonly string[]): Variant[] {
  const extra = parseExtraVariants(extraJson);
  const all = [...builtInVariants, ...extra];
  if (names.length === 0) {
    return all.filter((candidate) => defaultVariantNames.includes(candidate.name) || extra.includes(candidate));
  }
  const unknown = names.filter((name) => !all.some((candidate) => candidate.name === name));
  if (unknown.length > 0) {
    throw new Error(`unknown variant(s) ${unknown.join(", ")}; known: ${all.map((v) => v.name).join(", ")}`);
  }
  return all.filter((candidate) => names.includes(candidate.name));
}
