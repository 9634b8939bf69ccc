import { edgeEnvReference, loadConfig as loadEdgeConfig } from "../../services/edge/src/config.js";
import { loadConfig as loadMessageConfig, messageEnvReference } from "../../services/message/src/config.js";
import { renderChartReadme } from "./chart-values.js";
import { renderConfigReference } from "./config-reference.js";

/** A file in the repository that is generated from the code, and how to make it. */
export interface GeneratedFile {
  readonly path: string;
  render(): string;
}

export const generatedFiles: readonly GeneratedFile[] = [
  {
    path: "docs/configuration/edge.md",
    render: () =>
      renderConfigReference({
        title: "Edge",
        sources: ["services/edge/src/config.ts", "services/edge/src/auth/config.ts", "services/edge/src/rate-limit/config.ts", "services/edge/src/web/config.ts", "packages/runtime/src"],
        sections: edgeEnvReference,
        loadConfig: loadEdgeConfig,
      }),
  },
  {
    path: "docs/configuration/message.md",
    render: () =>
      renderConfigReference({
        title: "Message service",
        sources: ["services/message/src/config.ts", "packages/runtime/src"],
        sections: messageEnvReference,
        loadConfig: loadMessageConfig,
      }),
  },
  { path: "charts/chat/README.md", render: renderChartReadme },
];
