/**
 * Summary of a V8 .cpuprofile (node --cpu-prof): self time by function and
 * by area of the code, as plain text.
 */
import { readFileSync } from "node:fs";

function area(url, fn) {
  if (fn === "(garbage collector)") return "V8 garbage collector";
  if (fn === "(idle)") return "idle (waiting in epoll)";
  if (fn === "(program)") return "(program): native/V8 outside JS (libuv, syscalls, compiler)";
  if (!url) return `native: ${fn || "(anonymous)"}`;
  const m = /\/dist\/((?:engine|orchestrator)(?:\/[^/]+(?=\/))?)/.exec(url);
  if (m) return `ours: ${m[1]}`;
  if (url.startsWith("node:")) {
    const mod = /^node:(?:internal\/)?([a-z_]+(?:\/[a-z_]+)?)/.exec(url)?.[1] ?? url;
    return `node: ${mod}`;
  }
  if (url.includes("node_modules")) return `dependency: ${/node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1]}`;
  return url;
}

export function summarizeCpuProfile(path, top = 25) {
  const prof = JSON.parse(readFileSync(path, "utf8"));
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const selfUs = new Map();
  const deltas = prof.timeDeltas ?? [];
  prof.samples.forEach((id, i) => {
    selfUs.set(id, (selfUs.get(id) ?? 0) + (deltas[i] ?? 0));
  });
  const total = [...selfUs.values()].reduce((a, b) => a + b, 0);
  const parent = new Map();
  for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const short = (cf) => `${cf.functionName || "(anonymous)"}${cf.url ? ` ${cf.url.split("/").pop()}:${cf.lineNumber + 1}` : ""}`;
  /** function key -> caller chain (4 frames up) -> self time */
  const chains = new Map();
  const fns = new Map();
  const areas = new Map();
  for (const [id, us] of selfUs) {
    const n = byId.get(id);
    const cf = n.callFrame;
    const fn = cf.functionName || "(anonymous)";
    const file = cf.url ? cf.url.replace(/^file:\/\/.*?\/(dist|node_modules)\//, "$1/") : "";
    const key = file ? `${fn}  ${file}:${cf.lineNumber + 1}` : fn;
    fns.set(key, (fns.get(key) ?? 0) + us);
    const up = [];
    for (let p = parent.get(id), k = 0; p !== undefined && k < 4; p = parent.get(p), k++) up.push(short(byId.get(p).callFrame));
    if (!chains.has(key)) chains.set(key, new Map());
    const c = chains.get(key);
    c.set(up.join(" < "), (c.get(up.join(" < ")) ?? 0) + us);
    const a = area(cf.url, cf.functionName);
    areas.set(a, (areas.get(a) ?? 0) + us);
  }
  const idle = areas.get("idle (waiting in epoll)") ?? 0;
  const busy = total - idle;
  const pct = (us, of) => `${((100 * us) / of).toFixed(1).padStart(5)} %`;
  const lines = [];
  lines.push(`profile: ${path}`);
  lines.push(`wall ${(total / 1e6).toFixed(1)} s, on CPU (not idle) ${(busy / 1e6).toFixed(1)} s; shares below are of on-CPU time`);
  lines.push("");
  lines.push("by area (self time):");
  for (const [a, us] of [...areas].filter(([a]) => !a.startsWith("idle")).sort((x, y) => y[1] - x[1]).slice(0, 20)) lines.push(`  ${pct(us, busy)}  ${a}`);
  lines.push("");
  lines.push(`top ${top} functions (self time):`);
  for (const [k, us] of [...fns].filter(([k]) => k !== "(idle)").sort((x, y) => y[1] - x[1]).slice(0, top)) {
    lines.push(`  ${pct(us, busy)}  ${k}`);
    const [chain] = [...(chains.get(k) ?? new Map())].sort((x, y) => y[1] - x[1]);
    if (chain?.[0]) lines.push(`            called from: ${chain[0]}`);
  }
  return lines.join("\n");
}
