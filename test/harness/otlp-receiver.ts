import * as http from "node:http";
import { listen } from "@chat/runtime";

/** A span as OTLP/HTTP JSON carries it, with the service that reported it. */
export interface ReceivedSpan {
  readonly service: string;
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId: string;
  readonly name: string;
  /** 1 internal, 2 server, 3 client. */
  readonly kind: number;
  /** 0 unset, 1 ok, 2 error. */
  readonly statusCode: number;
  readonly attributes: Record<string, unknown>;
}

interface OtlpValue {
  stringValue?: string;
  intValue?: string | number;
  boolValue?: boolean;
}
interface OtlpAttribute {
  key: string;
  value: OtlpValue;
}

const plain = (attributes: OtlpAttribute[] = []) =>
  Object.fromEntries(attributes.map(({ key, value }) => [key, value.stringValue ?? value.intValue ?? value.boolValue]));

/**
 * An OTLP/HTTP trace receiver on loopback: collects spans sent as http/json, and keeps the
 * raw bodies of http/protobuf exports.
 */
export async function startOtlpReceiver() {
  const spans: ReceivedSpan[] = [];
  const protobufBodies: Buffer[] = [];
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const body = Buffer.concat(chunks);
      if (request.url === "/v1/traces" && request.headers["content-type"]?.includes("json")) {
        for (const resourceSpans of JSON.parse(body.toString("utf8")).resourceSpans ?? []) {
          const service = String(plain(resourceSpans.resource?.attributes)["service.name"]);
          for (const scope of resourceSpans.scopeSpans ?? []) {
            for (const span of scope.spans ?? []) {
              spans.push({
                service,
                traceId: span.traceId,
                spanId: span.spanId,
                parentSpanId: span.parentSpanId ?? "",
                name: span.name,
                kind: span.kind,
                statusCode: span.status?.code ?? 0,
                attributes: plain(span.attributes),
              });
            }
          }
        }
      } else if (request.url === "/v1/traces") {
        protobufBodies.push(body);
      }
      response.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  });
  const url = await listen(server, 0, "127.0.0.1");
  return {
    url,
    spans,
    protobufBodies,
    trace: (traceId: string) => spans.filter((span) => span.traceId === traceId),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export type OtlpReceiver = Awaited<ReturnType<typeof startOtlpReceiver>>;
