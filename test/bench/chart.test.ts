import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { renderChart, type ChartInput } from "../../bench/lib/chart.js";
import { loadConfig } from "../../bench/lib/config.js";
import type { RunRecord } from "../../bench/lib/execute.js";
import { saveReport } from "../../bench/lib/output.js";
import { cpuPerRequestTable, mainTable } from "../../bench/lib/report.js";
import { scenarios } from "../../bench/lib/scenarios.js";
import { summarize } from "../../bench/lib/summary.js";
import { selectVariants } from "../../bench/lib/variants.js";

const machine = { cpuModel: "Test CPU", cores: 2, nodeVersion: "v20.20.2" };
const oddName = 'a<b&"c"';
// Longer than the label column: shown cut short, whole in its tooltip.
const longName = "stack-with-a-long-variant-name-<&>";

/** One run whose CPU is given in µs per request, as the tables show it. */
function run(
  scenario: string,
  label: string,
  variant: string,
  round: number,
  throughput: number,
  [p50, p99]: [number, number],
  microsPerRequest: Record<string, number>,
): RunRecord {
  const durationS = 4;
  const requests = Math.round(throughput * durationS);
  const cpuSeconds = Object.fromEntries(Object.entries(microsPerRequest).map(([role, us]) => [role, (us * requests) / 1e6]));
  return {
    scenario,
    case: label,
    variant,
    round,
    throughput,
    requests,
    errors: 0,
    non2xx: 0,
    durationS,
    latencyMs: { p50, p90: (p50 + p99) / 2, p99, max: 2 * p99 },
    cpuSeconds,
  };
}

/** Three rounds of sends (two stacks against the baseline), a two-case pull-scaling, and a list the stacks alone serve. */
function handBuilt(): ChartInput {
  const records: RunRecord[] = [];
  [1, 0.9, 1.1].forEach((jitter, i) => {
    const round = i + 1;
    const send = (variant: string, rate: number, latency: [number, number], cpu: Record<string, number>) =>
      records.push(run("send-rotating", "send 1000 chats", variant, round, rate * jitter, latency, cpu));
    send("baseline", 12_000, [4.5 * jitter, 12.3], { baseline: 75, redis: 28, loadgen: 40 });
    send("stack", 3_300, [18.4, 99.2 * jitter], { edge: 185, message: 229, redis: 167, loadgen: 40 });
    send(oddName, 2_100, [29.3, 66.4], { edge: 379 * jitter, message: 198, redis: 121, loadgen: 40 });
    for (const [label, rate] of [["pull-50 @1e3", 3_700], ["pull-50 @1e6", 3_600]] as const) {
      records.push(run("pull-scaling", label, "baseline", round, rate * jitter, [18, 34], { baseline: 220, redis: 60 }));
      records.push(run("pull-scaling", label, "stack", round, (rate / 3) * jitter, [54, 160], { edge: 300, message: 250, redis: 60 }));
    }
    records.push(run("list", "list 20 of 1000 chats", "stack", round, 565 * jitter, [110, 240], { edge: 930, message: 1200, redis: 560 }));
    records.push(run("list", "list 20 of 1000 chats", longName, round, 540, [115, 250], { edge: 960, message: 1210, redis: 560 }));
  });
  return { startedAt: new Date("2026-12-02T01:18:53.577Z"), machine, loadgen: "autocannon", records };
}

/** Fails unless the markup is balanced XML with nothing unescaped in its text or attribute values. */
function expectWellFormed(xml: string): void {
  const entity = "&(?:amp|lt|gt|quot|apos|#\\d+);";
  const attribute = `\\s+[\\w:.-]+="(?:[^"<&]|${entity})*"`;
  const tagPattern = new RegExp(`^<(/?)([A-Za-z][\\w:.-]*)((?:${attribute})*)\\s*(/?)>$`);
  const stack: string[] = [];
  let rootClosed = false;
  const tokens = xml.trim().match(/<[^>]*>|[^<]+/g) ?? [];
  expect(tokens[0]).toMatch(/^<svg /);
  for (const token of tokens) {
    expect(rootClosed, `content after the root element: ${token}`).toBe(false);
    if (!token.startsWith("<")) {
      expect(token, "text").not.toMatch(new RegExp(`&(?!(?:amp|lt|gt|quot|apos|#\\d+);)`));
      continue;
    }
    const tag = tagPattern.exec(token);
    expect(tag, `malformed tag ${token}`).not.toBeNull();
    const [, closing, name, , selfClosing] = tag as RegExpExecArray;
    if (closing) expect(stack.pop(), `</${name}> closes`).toBe(name);
    else if (!selfClosing) stack.push(name as string);
    rootClosed = stack.length === 0;
  }
  expect(rootClosed, "the root element is closed").toBe(true);
}

const unescape = (value: string) =>
  value.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, '"').replace(/&amp;/g, "&");

interface Bar {
  readonly panel: string;
  readonly scenario: string;
  readonly case: string;
  readonly variant: string;
  /** The text of its <text> and <title> elements. */
  readonly texts: readonly string[];
}

function barsOf(svg: string): Bar[] {
  const pattern = /<g class="bar" data-panel="(\w+)" data-scenario="([^"]*)" data-case="([^"]*)" data-variant="([^"]*)">(.*?)<\/g>/g;
  return [...svg.matchAll(pattern)].map(([, panel, scenario, label, variant, inner]) => ({
    panel: panel as string,
    scenario: unescape(scenario as string),
    case: unescape(label as string),
    variant: unescape(variant as string),
    texts: [...(inner as string).matchAll(/<(?:text|title)[^>]*>([^<]*)</g)].map((match) => unescape(match[1] as string)),
  }));
}

/** The body rows of a table from report.ts, cells trimmed. */
function tableRows(table: string): string[][] {
  return table
    .split("\n")
    .slice(2)
    .map((line) => line.slice(2, -2).split(" | ").map((cell) => cell.trim()));
}

const median = (cell: string) => cell.split(" (")[0] as string;

/** Every case gets one bar per variant in each of the three panels, labelled as the tables print the medians. */
function expectBarsMatchTables(svg: string, records: readonly RunRecord[]): void {
  const summaries = summarize(records);
  const bars = barsOf(svg);
  const main = tableRows(mainTable(summaries));
  const cpu = tableRows(cpuPerRequestTable(summaries));
  const roles = ["edge", "message", "redis", "baseline"];
  summaries.forEach((summary, i) => {
    const [, , reqs, p50, , p99, , , , , , ratio] = main[i] as string[];
    const [, , ...micros] = cpu[i] as string[];
    const hasBaseline = summaries.some(
      (other) => other.scenario === summary.scenario && other.case === summary.case && other.ratioToBaseline !== undefined,
    );
    const find = (panel: string) =>
      bars.filter((bar) => bar.panel === panel && bar.scenario === summary.scenario && bar.case === summary.case && bar.variant === summary.variant);
    const [throughput, cpuBar, latency] = ["throughput", "cpu", "latency"].map(find) as [Bar[], Bar[], Bar[]];
    expect([throughput.length, cpuBar.length, latency.length], `${summary.case} ${summary.variant}`).toEqual([1, 1, 1]);
    const shownRatio = summary.variant === "baseline" ? "1.00×" : median(ratio as string);
    const throughputText = hasBaseline ? `${shownRatio} · ${median(reqs as string)} req/s` : `${median(reqs as string)} req/s`;
    expect(throughput[0]?.texts).toContain(throughputText);
    expect(cpuBar[0]?.texts).toContain(`${micros[4]} µs`);
    for (const [j, role] of roles.entries()) {
      if (micros[j] !== "—") expect(cpuBar[0]?.texts).toContain(`${role}: ${micros[j]} µs per request`);
    }
    expect(latency[0]?.texts).toEqual(["p50", `${p50} ms`, "p99", `${median(p99 as string)} ms`]);
  });
  expect(bars).toHaveLength(3 * summaries.length);
}

/** The markup of each case's row of panels, keyed by its heading. */
function sections(svg: string): Map<string, string> {
  return new Map(
    svg
      .split('<g class="section">')
      .slice(1)
      .map((chunk) => [unescape(/class="head">([^<]*)</.exec(chunk)?.[1] ?? ""), chunk]),
  );
}

describe("benchmark chart", () => {
  it("draws one labelled bar per variant per panel, with the tables' medians", () => {
    const input = handBuilt();
    const svg = renderChart(input);
    expectWellFormed(svg);
    expectBarsMatchTables(svg, input.records);
    expect(svg).toContain("Benchmark 2026-12-02 01:18 UTC");
    expect(svg).toContain("node v20.20.2 · 2 cores (Test CPU) · load from autocannon · medians of 3 runs");
    expect([...sections(svg).keys()]).toEqual([
      "send-rotating · send 1000 chats",
      "pull-scaling · pull-50 @1e3",
      "pull-scaling · pull-50 @1e6",
      "list · list 20 of 1000 chats",
    ]);
  });

  it("marks the targets' ratio where targets.ts sets one, and the baseline wherever there is one", () => {
    const byHeading = sections(renderChart(handBuilt()));
    const markers = (heading: string) => ({
      targets: [...(byHeading.get(heading) ?? "").matchAll(/class="target" data-ratio="([\d.]+)"/g)].map((match) => match[1]),
      baseline: (byHeading.get(heading) ?? "").includes('class="baseline-marker"'),
    });
    expect(markers("send-rotating · send 1000 chats")).toEqual({ targets: ["0.5"], baseline: true });
    expect(markers("pull-scaling · pull-50 @1e6")).toEqual({ targets: [], baseline: true });
    expect(markers("list · list 20 of 1000 chats")).toEqual({ targets: [], baseline: false });
    expect(byHeading.get("list · list 20 of 1000 chats")).toContain("Throughput (req/s, no baseline)");
  });

  it("escapes names in text and attributes", () => {
    const svg = renderChart(handBuilt());
    expect(svg).toContain(">a&lt;b&amp;&quot;c&quot;<");
    expect(svg).toContain('data-variant="a&lt;b&amp;&quot;c&quot;"');
    expect(svg).not.toContain("a<b");
    expect(svg).toContain("<title>stack-with-a-long-variant-name-&lt;&amp;&gt;</title>stack-with-a-long-variant-n…<");
  });

  it("says there is nothing to draw when the run has no load records", () => {
    const svg = renderChart({ ...handBuilt(), records: [] });
    expectWellFormed(svg);
    expect(svg).toContain("Nothing to draw");
    expect(svg).not.toContain('class="bar"');
    expect(svg).toMatch(/<svg [^>]*width="960" height="\d+"/);
  });

  it("is written beside the JSON by saveReport", () => {
    const dir = mkdtempSync(join(tmpdir(), "bench-chart-"));
    try {
      const input = handBuilt();
      const outcome = {
        ...input,
        machine: { ...machine, memoryGiB: 1, kernel: "Linux", redisVersion: "7", autocannonVersion: "9", wrkVersion: "", loadAverageAtStart: [0] },
        loadgen: "autocannon" as const,
        config: { ...loadConfig(), resultsDir: dir },
        variants: selectVariants("", ["baseline", "stack"]),
        scenarios: scenarios.filter((scenario) => ["send-rotating", "pull-scaling", "list"].includes(scenario.name)),
        memory: [],
      };
      const saved = saveReport(outcome);
      expect(saved.results).toBe(join(dir, "2026-12-02T01-18-53-577Z.json"));
      expect(saved.chart).toBe(join(dir, "2026-12-02T01-18-53-577Z.svg"));
      expect(readFileSync(saved.chart, "utf8")).toBe(renderChart(outcome));
      expect(existsSync(saved.results)).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  // Result files are not committed (.gitignore), so this runs only where a bench has run.
  const resultsDir = new URL("../../bench/results/", import.meta.url).pathname;
  const newest = readdirSync(resultsDir)
    .filter((name) => name.endsWith(".json"))
    .sort()
    .at(-1);
  it.skipIf(newest === undefined)(`draws the newest saved run (${newest ?? "none"}) with the tables' medians`, () => {
    const saved = JSON.parse(readFileSync(join(resultsDir, newest as string), "utf8")) as {
      startedAt: string;
      machine: ChartInput["machine"];
      config: { loadgen: string };
      runs: RunRecord[];
    };
    const svg = renderChart({ startedAt: new Date(saved.startedAt), machine: saved.machine, loadgen: saved.config.loadgen, records: saved.runs });
    expectWellFormed(svg);
    expectBarsMatchTables(svg, saved.runs);
    if (saved.runs.length === 0) expect(svg).toContain("Nothing to draw");
  });
});
