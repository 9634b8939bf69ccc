/** One sample line of the Prometheus text format: its metric name, labels and value. */
interface Series {
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly value: number;
}

const sampleLine = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)(?: -?\d+)?$/;
const labelPair = /([a-zA-Z_]\w*)="((?:[^"\\]|\\.)*)"/g;
const unescape = (value: string) => value.replace(/\\(.)/g, (_, char: string) => (char === "n" ? "\n" : char));
const specialValues: Record<string, number> = { "+Inf": Infinity, "-Inf": -Infinity, NaN: Number.NaN };
const parseValue = (text: string) => specialValues[text] ?? Number(text);

function parse(text: string): Series[] {
  return text.split("\n").flatMap((line) => {
    const match = sampleLine.exec(line);
    if (!match) return [];
    const labels = Object.fromEntries([...(match[2] ?? "").matchAll(labelPair)].map(([, key, value]) => [key!, unescape(value!)]));
    return [{ name: match[1]!, labels, value: parseValue(match[3]!) }];
  });
}

const describeSeries = (name: string, labels: Record<string, string>) =>
  `${name}{${Object.entries(labels).map(([key, value]) => `${key}=${JSON.stringify(value)}`).join(",")}}`;

async function matching(metricsUrl: string, name: string, labels: Record<string, string>) {
  if (metricsUrl === "") throw new Error(`no metrics URL to read ${name} from: the service logged no "metrics listening" line`);
  const reply = await fetch(metricsUrl);
  if (reply.status !== 200) throw new Error(`GET ${metricsUrl} answered ${reply.status}`);
  const all = parse(await reply.text()).filter((series) => series.name === name);
  const found = all.filter((series) => Object.entries(labels).every(([key, value]) => series.labels[key] === value));
  if (found.length > 1) {
    throw new Error(
      `${describeSeries(name, labels)} matches ${found.length} series at ${metricsUrl}; name more labels: ` +
        found.map((series) => describeSeries(series.name, series.labels)).join(", "),
    );
  }
  return { found: found[0], all };
}

/**
 * The value of the one series of `name` whose labels include `labels`, or undefined when no
 * such series exists (a labelled counter has none until it first counts). Throws when the
 * labels fit several series, so a check never reads an arbitrary one of them.
 */
export async function sample(metricsUrl: string, name: string, labels: Record<string, string> = {}): Promise<number | undefined> {
  return (await matching(metricsUrl, name, labels)).found?.value;
}

/** Like `sample`, but throws, naming the series and the labels it looked for, when there is none. */
export async function requireSample(metricsUrl: string, name: string, labels: Record<string, string> = {}): Promise<number> {
  const { found, all } = await matching(metricsUrl, name, labels);
  if (found) return found.value;
  const present = all.map((series) => describeSeries(series.name, series.labels)).join(", ") || "none";
  throw new Error(`no series ${describeSeries(name, labels)} at ${metricsUrl} (series of that name: ${present})`);
}
