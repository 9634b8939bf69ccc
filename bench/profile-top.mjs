// Prints the functions with the most self time in V8 .cpuprofile files (node --cpu-prof),
// and the same time grouped by package, so a profile can be read without DevTools.
//
//   node bench/profile-top.mjs [--top 25] file.cpuprofile [more.cpuprofile ...]
import { readFileSync } from "node:fs";
import { relative } from "node:path";
import { fileURLToPath } from "node:url";

/** Self time per profile node, in microseconds, from the sample stream. */
function selfTimes(profile) {
  const self = new Map();
  const { samples = [], timeDeltas = [] } = profile;
  for (let i = 0; i < samples.length; i++) {
    // timeDeltas[i] is the time since the previous sample; charge it to the sample taken then.
    const node = i > 0 ? samples[i - 1] : samples[0];
    self.set(node, (self.get(node) ?? 0) + Math.max(0, timeDeltas[i] ?? 0));
  }
  return self;
}

function location(callFrame) {
  const url = callFrame.url ?? "";
  if (url === "") return "";
  const path = url.startsWith("file://") ? relative(process.cwd(), fileURLToPath(url)) : url;
  return `${path}:${(callFrame.lineNumber ?? 0) + 1}`;
}

/** "node_modules/@scope/name" → "@scope/name"; node internals and our own code by kind. */
function owner(callFrame) {
  const url = callFrame.url ?? "";
  const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (match) return match[1];
  if (url.startsWith("node:") || (url !== "" && !url.includes("/"))) return "node (internals)";
  if (url === "") return callFrame.functionName.startsWith("(") ? callFrame.functionName : "native";
  const path = url.startsWith("file://") ? relative(process.cwd(), fileURLToPath(url)) : url;
  const ours = /^(services\/[^/]+|packages\/[^/]+)/.exec(path);
  return ours ? ours[1] : path;
}

function rows(map, total, top) {
  return [...map.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([name, micros]) => `${(micros / 1000).toFixed(1).padStart(9)} ms ${((100 * micros) / total).toFixed(1).padStart(5)}%  ${name}`);
}

function report(file, top) {
  const profile = JSON.parse(readFileSync(file, "utf8"));
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const byFunction = new Map();
  const byOwner = new Map();
  let total = 0;
  let idle = 0;
  for (const [id, micros] of selfTimes(profile)) {
    const frame = nodes.get(id)?.callFrame ?? { functionName: "(unknown)" };
    if (frame.functionName === "(idle)") {
      idle += micros;
      continue;
    }
    total += micros;
    const name = `${frame.functionName || "(anonymous)"}  ${location(frame)}`.trim();
    byFunction.set(name, (byFunction.get(name) ?? 0) + micros);
    byOwner.set(owner(frame), (byOwner.get(owner(frame)) ?? 0) + micros);
  }
  console.log(`\n== ${relative(process.cwd(), file)}`);
  console.log(`   busy ${(total / 1e6).toFixed(2)} s, idle ${(idle / 1e6).toFixed(2)} s; shares below are of busy time`);
  console.log(`-- top ${top} functions by self time`);
  for (const line of rows(byFunction, total, top)) console.log(line);
  console.log("-- self time by package");
  for (const line of rows(byOwner, total, 15)) console.log(line);
}

const args = process.argv.slice(2);
let top = 25;
const files = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === "--top") top = Number(args[++i]);
  else files.push(args[i]);
}
if (files.length === 0 || !Number.isInteger(top) || top <= 0) {
  console.error("usage: node bench/profile-top.mjs [--top N] file.cpuprofile ...");
  process.exit(2);
}
for (const file of files) report(file, top);
