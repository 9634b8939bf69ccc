import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { isMap, isPair, isScalar, parseDocument, type Node, type Pair, type YAMLMap } from "yaml";

const root = fileURLToPath(new URL("../../", import.meta.url));
const chartDir = join(root, "charts/chat");

/** One `# --` documented value: where it is, what it means, its default, and what the schema allows. */
interface Value {
  readonly path: string;
  readonly meaning: string;
  readonly value: unknown;
  readonly type: string;
  readonly range: string;
}

/** A group of values under one heading: the top-level keys, or one top-level section. */
interface Group {
  readonly heading: string;
  readonly intro: string;
  readonly values: Value[];
}

type Schema = {
  type?: string | string[];
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  minLength?: number;
  properties?: Record<string, Schema>;
  items?: Schema;
  $ref?: string;
};

/** The comment of a key split at its `-- ` marker: the free text before it, the meaning after. */
function splitComment(comment: string | null | undefined): { intro: string; meaning: string | undefined } {
  const lines = (comment ?? "").split("\n").map((line) => line.replace(/^ /, ""));
  const marker = lines.findIndex((line) => line.startsWith("-- "));
  const join = (part: string[]) => part.map((line) => line.trim()).filter((line) => line !== "").join(" ");
  if (marker === -1) return { intro: join(lines), meaning: undefined };
  return { intro: join(lines.slice(0, marker)), meaning: join([lines[marker]!.slice(3), ...lines.slice(marker + 1)]) };
}

function schemaAt(schema: Schema | undefined, definitions: Record<string, Schema>, keys: string[]): Schema | undefined {
  let node = schema;
  for (const key of keys) {
    node = resolve(node, definitions)?.properties?.[key];
    if (node === undefined) return undefined;
  }
  return resolve(node, definitions);
}

function resolve(node: Schema | undefined, definitions: Record<string, Schema>): Schema | undefined {
  const ref = node?.$ref?.replace(/^#\/definitions\//, "");
  return ref === undefined ? node : resolve(definitions[ref], definitions);
}

function typeOf(value: unknown, schema: Schema | undefined): { type: string; range: string } {
  const { minimum, maximum } = schema ?? {};
  const range =
    minimum !== undefined && maximum !== undefined
      ? `${minimum}–${maximum}`
      : minimum !== undefined
        ? `≥ ${minimum}`
        : maximum !== undefined
          ? `≤ ${maximum}`
          : "";
  if (schema?.enum) return { type: schema.enum.map((item) => `\`${JSON.stringify(item)}\``).join(" \\| "), range };
  if (schema?.type) return { type: [schema.type].flat().join(" or "), range };
  if (Array.isArray(value)) return { type: "array", range };
  return { type: value === null ? "null" : typeof value === "object" ? "object" : typeof value, range };
}

interface Walk {
  readonly schema: Schema;
  readonly definitions: Record<string, Schema>;
  readonly prefix: string;
}

/** Documented values of `map`, depth first; an undocumented map is a section of documented keys. */
function documented(map: YAMLMap, keys: string[], walk: Walk, commentOfFirst: string | null | undefined): Value[] {
  return map.items.flatMap((item, index) => {
    if (!isPair(item)) return [];
    const pair = item as Pair<Node, Node>;
    const key = isScalar(pair.key) ? String(pair.key.value) : "?";
    const path = [...keys, key];
    const { meaning } = splitComment(pair.key?.commentBefore ?? (index === 0 ? commentOfFirst : undefined));
    if (meaning === undefined) {
      if (isMap(pair.value) && pair.value.items.length > 0) return documented(pair.value, path, walk, pair.value.commentBefore);
      throw new Error(`${walk.prefix}${path.join(".")} has no \`# --\` comment in values.yaml`);
    }
    const value: unknown = pair.value?.toJSON() ?? null;
    return [{ path: walk.prefix + path.join("."), meaning, value, ...typeOf(value, schemaAt(walk.schema, walk.definitions, path)) }];
  });
}

/** The values of one chart's values.yaml, grouped by top-level key. */
function groupsOf(dir: string, prefix: string): Group[] {
  const document = parseDocument(readFileSync(join(dir, "values.yaml"), "utf8"));
  const schema = JSON.parse(readFileSync(join(dir, "values.schema.json"), "utf8")) as Schema & { definitions?: Record<string, Schema> };
  const walk: Walk = { schema, definitions: schema.definitions ?? {}, prefix };
  const top: Group = { heading: prefix === "" ? "General" : `\`${prefix.slice(0, -1)}\``, intro: "", values: [] };
  const groups: Group[] = [top];
  const rootMap = document.contents as YAMLMap;
  rootMap.items.forEach((item, index) => {
    const pair = item as Pair<Node, Node>;
    const key = String((pair.key as { value?: unknown }).value);
    const comment = pair.key?.commentBefore ?? (index === 0 ? document.commentBefore : undefined);
    const single = new (rootMap.constructor as new () => YAMLMap)();
    single.items.push(pair);
    const values = documented(single, [], walk, comment);
    const isSection = splitComment(comment).meaning === undefined && isMap(pair.value);
    if (!isSection || prefix !== "") top.values.push(...values);
    else groups.push({ heading: `\`${key}\``, intro: splitComment(comment).intro, values });
  });
  return groups.filter((group) => group.values.length > 0);
}

const cell = (text: string) => text.replace(/\|/g, "\\|");

function renderValue(value: unknown): string {
  const json = JSON.stringify(value);
  return json.length > 60 ? `see values.yaml` : `\`${cell(json)}\``;
}

function renderGroup(group: Group, level: string): string {
  const rows = group.values.map(
    (value) => `| \`${value.path}\` | ${value.type} | ${renderValue(value.value)} | ${value.range} | ${cell(value.meaning)} |`,
  );
  return [
    `${level} ${group.heading}`,
    "",
    ...(group.intro ? [cell(group.intro), ""] : []),
    "| value | type | default | range | meaning |",
    "| --- | --- | --- | --- | --- |",
    ...rows,
    "",
  ].join("\n");
}

/** charts/chat/README.md: how to install, then every value of the chart and its Redis Cluster subchart. */
export function renderChartReadme(): string {
  const main = groupsOf(chartDir, "");
  const subchart = groupsOf(join(chartDir, "charts/redis-cluster"), "redis-cluster.");
  return [
    "# Helm chart `chat`",
    "",
    "<!-- Generated by `make docs` from values.yaml and values.schema.json (and the redis-cluster subchart's). Do not edit: change the `# --` comments there. -->",
    "",
    "The edge, the message service and, unless you bring your own Redis, a Redis Cluster. How to",
    "install it, run it in production and operate it: [docs/operations.md](../../docs/operations.md);",
    "authentication and network policies: [docs/security.md](../../docs/security.md).",
    "",
    "```sh skip=needs-kubernetes",
    "helm upgrade --install chat charts/chat --namespace chat --create-namespace --set imageRegistry=registry.example.com/chat",
    "```",
    "",
    "`values.schema.json` rejects unknown keys and wrong types, so a typo fails the install instead",
    "of being ignored. Types and ranges below are the schema's; a default too long for the table is",
    "in `values.yaml`.",
    "",
    "## Values",
    "",
    ...main.map((group) => renderGroup(group, "###")),
    "## Values of the Redis Cluster subchart (`redis-cluster.*`)",
    "",
    "Set under `redis-cluster:` in the chart's values; `redis-cluster.enabled=false` leaves it out (then set `externalRedis`).",
    "",
    ...subchart.map((group) => renderGroup(group, "###")),
  ].join("\n");
}
