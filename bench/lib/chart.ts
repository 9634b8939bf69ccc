import type { RunRecord } from "./execute.js";
import type { MachineInfo } from "./machine.js";
import type { Spread } from "./stats.js";
import { summarize, type CaseSummary } from "./summary.js";
import { hopScenarios, minThroughputRatio } from "./targets.js";

/** What the chart needs of a run. An Outcome (output.ts) is one; naming it here would import output.ts back. */
export interface ChartInput {
  readonly startedAt: Date;
  readonly machine: Pick<MachineInfo, "cores" | "nodeVersion" | "cpuModel">;
  readonly loadgen: string;
  readonly records: readonly RunRecord[];
}

/** One case of one scenario: a row of three panels, a line per variant. */
interface Section {
  readonly scenario: string;
  readonly label: string;
  readonly rows: readonly CaseSummary[];
  readonly hasBaseline: boolean;
  readonly targetRatio: number | undefined;
}

interface Scale {
  readonly top: number;
  readonly ticks: readonly number[];
  readonly digits: number;
}

/** Where a panel sits and how wide its longest bar may be (the rest is room for the value labels). */
interface Panel {
  readonly x: number;
  readonly plot: number;
}

const width = 960;
const margin = 16;
const rowHeight = 30;
const panelGap = 28;
// The processes under test, in the order a request travels; loadgen CPU is the load generator's own.
const serverRoles = ["edge", "message", "baseline", "redis"];
const roleColors: Record<string, string> = { edge: "#4e79a7", message: "#f28e2b", redis: "#e15759", baseline: "#76b7b2" };
const style = `text{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;font-size:12px;fill:#222}
.title{font-size:16px;font-weight:600}.head{font-weight:600}.muted{fill:#555}.value{font-size:11px}
.inside{font-size:11px;fill:#fff}.tick{font-size:11px;fill:#666}.target-label{font-size:11px;fill:#b03a2e}`;

function escapeXml(value: string): string {
  return value.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

// The tables' formats (report.ts keeps them private); the test holds the chart's labels to the tables' text.
function number(value: number, digits: number): string {
  if (!Number.isFinite(value)) return "—";
  return value.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
}
const ms = (value: number) => number(value, Math.abs(value) < 10 ? 2 : 1);

const round = (value: number) => Math.round(value * 10) / 10;
const finite = (value: number) => (Number.isFinite(value) ? value : 0);

function text(x: number, y: number, content: string, className = "", anchor = "start"): string {
  const cls = className ? ` class="${className}"` : "";
  const end = anchor === "start" ? "" : ` text-anchor="${anchor}"`;
  return `<text x="${round(x)}" y="${round(y)}"${cls}${end}>${escapeXml(content)}</text>`;
}

function rect(x: number, y: number, w: number, h: number, fill: string, tooltip?: string): string {
  const body = tooltip === undefined ? "/>" : `><title>${escapeXml(tooltip)}</title></rect>`;
  return `<rect x="${round(x)}" y="${round(y)}" width="${round(Math.max(0, w))}" height="${h}" fill="${fill}"${body}`;
}

function line(x1: number, y1: number, x2: number, y2: number, stroke: string, extra = ""): string {
  return `<line x1="${round(x1)}" y1="${round(y1)}" x2="${round(x2)}" y2="${round(y2)}" stroke="${stroke}"${extra}/>`;
}

/** 0 to a round number at or above max, in two to five steps of 1, 2, 2.5 or 5 × 10^k. */
function niceScale(max: number): Scale {
  const wanted = Number.isFinite(max) && max > 0 ? max : 1;
  const magnitude = 10 ** Math.floor(Math.log10(wanted / 3));
  const step = ([1, 2, 2.5, 5, 10].find((factor) => factor * magnitude >= wanted / 3) ?? 10) * magnitude;
  const steps = Math.ceil(wanted / step - 1e-9);
  const ticks = Array.from({ length: steps + 1 }, (_, i) => Math.round(i * step * 1e9) / 1e9);
  const digits = Math.max(0, -Math.floor(Math.log10(step) + 1e-9) + (step / magnitude === 2.5 ? 1 : 0));
  return { top: steps * step, ticks, digits };
}

function sectionsOf(summaries: readonly CaseSummary[]): Section[] {
  const sections = new Map<string, CaseSummary[]>();
  for (const summary of summaries) {
    const key = `${summary.scenario}\u0000${summary.case}`;
    sections.set(key, [...(sections.get(key) ?? []), summary]);
  }
  return [...sections.values()].map((rows) => {
    const first = rows[0] as CaseSummary;
    return {
      scenario: first.scenario,
      label: first.case,
      rows,
      hasBaseline: rows.some((row) => row.ratioToBaseline !== undefined),
      targetRatio: hopScenarios.includes(first.scenario) ? minThroughputRatio : undefined,
    };
  });
}

/** The baseline's own bar is 1× by definition; a case the baseline does not serve shows req/s instead. */
function throughputOf(row: CaseSummary, section: Section): Spread {
  if (!section.hasBaseline) return row.throughput;
  return row.ratioToBaseline ?? (row.variant === "baseline" ? { median: 1, min: 1, max: 1 } : { median: NaN, min: NaN, max: NaN });
}

function throughputLabel(row: CaseSummary, section: Section): string {
  const reqs = `${number(row.throughput.median, 0)} req/s`;
  const ratio = throughputOf(row, section).median;
  if (!section.hasBaseline) return reqs;
  return Number.isFinite(ratio) ? `${number(ratio, 2)}× · ${reqs}` : `no baseline round · ${reqs}`;
}

function barGroup(panel: string, section: Section, row: CaseSummary, parts: readonly string[]): string {
  const data = `data-panel="${panel}" data-scenario="${escapeXml(section.scenario)}" data-case="${escapeXml(section.label)}"`;
  return `<g class="bar" ${data} data-variant="${escapeXml(row.variant)}">${parts.join("")}</g>`;
}

/** Gridlines and tick labels under a panel's rows. */
function axis(panel: Panel, scale: Scale, top: number, bottom: number, suffix: string): string {
  return scale.ticks
    .map((tick) => {
      const x = panel.x + (tick / scale.top) * panel.plot;
      return line(x, top, x, bottom + 4, "#e3e6ea") + text(x, bottom + 16, `${number(tick, scale.digits)}${suffix}`, "tick", "middle");
    })
    .join("") + line(panel.x, bottom, panel.x + panel.plot, bottom, "#999");
}

function throughputPanel(section: Section, panel: Panel, scale: Scale, top: number): string {
  const bottom = top + section.rows.length * rowHeight;
  const px = (value: number) => panel.x + (finite(value) / scale.top) * panel.plot;
  const parts = [axis(panel, scale, top - 6, bottom, section.hasBaseline ? "×" : "")];
  section.rows.forEach((row, i) => {
    const y = top + i * rowHeight + 8;
    const value = throughputOf(row, section);
    const fill = row.variant === "baseline" ? "#b8c2cf" : "#5b6f8a";
    const bar = [rect(panel.x, y, px(value.median) - panel.x, 14, fill)];
    if (row.runs > 1 && Number.isFinite(value.min)) bar.push(line(px(value.min), y + 7, px(value.max), y + 7, "#222", ' stroke-width="1.5"'));
    bar.push(text(Math.max(px(value.median), px(value.max)) + 5, y + 11, throughputLabel(row, section), "value"));
    parts.push(barGroup("throughput", section, row, bar));
  });
  if (section.hasBaseline) parts.push(line(px(1), top - 6, px(1), bottom, "#333", ' class="baseline-marker"'));
  if (section.hasBaseline && section.targetRatio !== undefined) {
    const x = px(section.targetRatio);
    const label = `target ≥ ${number(section.targetRatio, 2)}×`;
    parts.push(line(x, top - 6, x, bottom, "#b03a2e", ` class="target" data-ratio="${section.targetRatio}" stroke-dasharray="4 3" stroke-width="1.5"`));
    parts.push(text(x + 3, top - 9, label, "target-label"));
  }
  return parts.join("");
}

function cpuPanel(section: Section, panel: Panel, scale: Scale, top: number): string {
  const bottom = top + section.rows.length * rowHeight;
  const parts = [axis(panel, scale, top - 6, bottom, "")];
  section.rows.forEach((row, i) => {
    const y = top + i * rowHeight + 8;
    let x = panel.x;
    const bar: string[] = [];
    for (const role of serverRoles) {
      const value = row.cpuMicrosPerRequest[role]?.median;
      if (value === undefined || !Number.isFinite(value)) continue;
      const w = (value / scale.top) * panel.plot;
      const label = number(value, 0);
      bar.push(rect(x, y, w, 14, roleColors[role] ?? "#999", `${role}: ${label} µs per request`));
      if (w >= label.length * 6.5 + 6) bar.push(text(x + w / 2, y + 11, label, "inside", "middle"));
      x += w;
    }
    // The label is the tables' server column, the median of each run's sum; the segments are per-role medians.
    const server = row.cpuMicrosPerRequest.server?.median ?? NaN;
    bar.push(text(x + 5, y + 11, `${number(server, 0)} µs`, "value"));
    parts.push(barGroup("cpu", section, row, bar));
  });
  return parts.join("");
}

function latencyPanel(section: Section, panel: Panel, scale: Scale, top: number): string {
  const bottom = top + section.rows.length * rowHeight;
  const px = (value: number) => (finite(value) / scale.top) * panel.plot;
  const parts = [axis(panel, scale, top - 6, bottom, "")];
  section.rows.forEach((row, i) => {
    const y = top + i * rowHeight + 3;
    const bar = [
      rect(panel.x, y, px(row.p50Ms.median), 11, "#55606e", "p50"),
      text(panel.x + px(row.p50Ms.median) + 5, y + 9.5, `${ms(row.p50Ms.median)} ms`, "value"),
      rect(panel.x, y + 13, px(row.p99Ms.median), 11, "#aab4c0", "p99"),
      text(panel.x + px(row.p99Ms.median) + 5, y + 22.5, `${ms(row.p99Ms.median)} ms`, "value"),
    ];
    parts.push(barGroup("latency", section, row, bar));
  });
  return parts.join("");
}

function sectionHeight(section: Section): number {
  return 60 + section.rows.length * rowHeight + 34;
}

function variantLabel(name: string, x: number, y: number, room: number): string {
  const fits = Math.floor(room / 7);
  if (name.length <= fits) return text(x, y, name);
  return `<text x="${x}" y="${round(y)}"><title>${escapeXml(name)}</title>${escapeXml(`${name.slice(0, fits - 1)}…`)}</text>`;
}

function sectionMarkup(section: Section, panels: readonly Panel[], scales: readonly Scale[], labelRoom: number, y: number): string {
  const [throughput, cpu, latency] = panels as [Panel, Panel, Panel];
  const [ratioScale, cpuScale, latencyScale] = scales as [Scale, Scale, Scale];
  const top = y + 60;
  const parts = [
    line(margin, y, width - margin, y, "#d5d9de"),
    text(margin, y + 20, `${section.scenario} · ${section.label}`, "head"),
    text(throughput.x, y + 38, section.hasBaseline ? "Throughput (× baseline, req/s)" : "Throughput (req/s, no baseline)", "muted"),
    text(cpu.x, y + 38, "Server CPU per request (µs)", "muted"),
    text(latency.x, y + 38, "Latency p50 / p99 (ms)", "muted"),
    ...section.rows.map((row, i) => variantLabel(row.variant, margin, top + i * rowHeight + 19, labelRoom)),
    throughputPanel(section, throughput, ratioScale, top),
    cpuPanel(section, cpu, cpuScale, top),
    latencyPanel(section, latency, latencyScale, top),
  ];
  return `<g class="section">${parts.join("")}</g>`;
}

/** Ratios share one scale across sections (they compare); µs, ms and req/s get one per section. */
function scalesFor(section: Section, ratioTop: number): Scale[] {
  const cpuTotals = section.rows.map((row) =>
    Math.max(
      serverRoles.reduce((sum, role) => sum + finite(row.cpuMicrosPerRequest[role]?.median ?? 0), 0),
      finite(row.cpuMicrosPerRequest.server?.median ?? 0),
    ),
  );
  const throughput = section.hasBaseline
    ? niceScale(ratioTop)
    : niceScale(Math.max(...section.rows.map((row) => finite(row.throughput.max))));
  return [throughput, niceScale(Math.max(...cpuTotals)), niceScale(Math.max(...section.rows.map((row) => finite(row.p99Ms.median))))];
}

function legend(summaries: readonly CaseSummary[], sections: readonly Section[], y: number): string {
  const roles = serverRoles.filter((role) => summaries.some((summary) => role in summary.cpuMicrosPerRequest));
  const items: [string, string][] = [
    ...roles.map((role): [string, string] => [rect(0, -10, 12, 12, roleColors[role] ?? "#999"), `${role} CPU`]),
    [rect(0, -10, 12, 12, "#55606e"), "p50"],
    [rect(0, -10, 12, 12, "#aab4c0"), "p99"],
  ];
  if (summaries.some((summary) => summary.runs > 1)) items.push([line(0, -4, 14, -4, "#222", ' stroke-width="1.5"'), "min–max of the runs"]);
  if (sections.some((section) => section.hasBaseline && section.targetRatio !== undefined)) {
    items.push([line(6, -12, 6, 3, "#b03a2e", ' stroke-dasharray="4 3" stroke-width="1.5"'), "target"]);
  }
  let x = margin;
  const parts = items.map(([mark, label]) => {
    const item = `<g transform="translate(${round(x)},${y})">${mark}${text(18, 0, label, "value")}</g>`;
    x += 18 + label.length * 6.5 + 18;
    return item;
  });
  return `<g class="legend">${parts.join("")}</g>`;
}

function header(input: ChartInput, summaries: readonly CaseSummary[]): string {
  const { machine } = input;
  const runs = Math.max(0, ...summaries.map((summary) => summary.runs));
  const date = `${input.startedAt.toISOString().slice(0, 16).replace("T", " ")} UTC`;
  const conditions = `node ${machine.nodeVersion} · ${machine.cores} cores (${machine.cpuModel}) · load from ${input.loadgen}`;
  const what = runs > 0 ? ` · medians of ${runs} run${runs === 1 ? "" : "s"}` : "";
  return text(margin, 28, `Benchmark ${date}`, "title") + text(margin, 48, conditions + what, "muted");
}

function svg(height: number, body: readonly string[]): string {
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">` +
    `<style>${style}</style><rect width="100%" height="100%" fill="#fff"/>${body.join("")}</svg>\n`
  );
}

/** The run's load scenarios as an SVG: per case, throughput, CPU per request and latency per variant. */
export function renderChart(input: ChartInput): string {
  const summaries = summarize(input.records);
  if (summaries.length === 0) {
    const note = "Nothing to draw: this run has no load records (memory and live results are in the JSON and the tables).";
    return svg(100, [header(input, summaries), text(margin, 80, note)]);
  }
  const sections = sectionsOf(summaries);
  const labelRoom = Math.min(200, Math.max(90, 7 * Math.max(...summaries.map((summary) => summary.variant.length)) + 12));
  // The throughput panel is wider because its labels are ("0.27× · 2,539 req/s").
  const share = (width - 2 * margin - labelRoom - 2 * panelGap) / 3.3;
  const throughput = { x: margin + labelRoom, plot: 1.3 * share - 130 };
  const cpu = { x: throughput.x + 1.3 * share + panelGap, plot: share - 56 };
  const panels = [throughput, cpu, { x: cpu.x + share + panelGap, plot: share - 56 }];
  const ratioTop = Math.max(1, ...summaries.map((summary) => finite(summary.ratioToBaseline?.max ?? 0)));
  let y = 84;
  const body = [header(input, summaries), legend(summaries, sections, 72)];
  for (const section of sections) {
    body.push(sectionMarkup(section, panels, scalesFor(section, ratioTop), labelRoom, y));
    y += sectionHeight(section);
  }
  return svg(y + margin, body);
}
