/**
 * Results -> the console table, results.json, results.md and a PNG chart
 * (an SVG written here, rendered with @resvg/resvg-js).
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";

export const SYSTEM_LABELS = {
  "ours-all": "ours, FLV+HLS+MP4+AAC",
  "ours-flv": "ours, FLV only",
  "ours-ingest": "ours, ingest only (nothing recorded)",
  nginx: "nginx-rtmp, FLV+HLS",
  naive: "node-media-server + ffmpeg per format",
};
const COLORS = { "ours-all": "#1f77b4", "ours-flv": "#2ca02c", "ours-ingest": "#9467bd", nginx: "#d62728", naive: "#ff7f0e" };
const ORDER = ["ours-all", "ours-flv", "ours-ingest", "nginx", "naive"];

const fmt = (v, digits = 1) => (v === undefined || v === null || !Number.isFinite(v) ? "–" : v.toFixed(digits));
const ratio = (a, b) => (a !== undefined && b !== undefined && b > 0 ? a / b : undefined);

function find(runs, system, n) {
  return runs.find((r) => r.system === system && r.n === n && !r.failed);
}

/** ours ÷ peer, per ours row. */
export function ratios(runs) {
  const out = [];
  for (const r of runs) {
    if (!r.system.startsWith("ours") || r.failed) continue;
    const nginx = find(runs, "nginx", r.n);
    const naive = find(runs, "naive", r.n);
    out.push({
      system: r.system,
      n: r.n,
      vsNginx: ratio(r.cpuMsPerStreamSec, nginx?.cpuMsPerStreamSec),
      vsNaive: ratio(r.cpuMsPerStreamSec, naive?.cpuMsPerStreamSec),
    });
  }
  return out;
}

/** Largest N at which a system recorded every frame with its CPU under `limit` of the machine. */
export function largestCleanN(runs, system, limit = 0.9) {
  let best;
  for (const r of runs) {
    if (r.system !== system || r.failed) continue;
    const clean = r.frames.lost === 0 && r.frames.extra === 0 && r.frames.missingFiles === 0 && !r.failedPublishes && !r.latency.incomplete;
    if (clean && r.cpuShareOfMachine < limit) best = Math.max(best ?? 0, r.n);
  }
  return best;
}

export function markdownTable(runs) {
  const rs = ratios(runs);
  const lines = [
    "| N | system | CPU ms per stream-second | ÷ nginx-rtmp | ÷ naive | server / helpers CPU | CPU, % of 2 cores | peak RSS MB (per stream); PSS | frames lost / pushed | push end → last file, p50 / p99 s |",
    "|---:|---|---:|---:|---:|---|---:|---:|---:|---:|",
  ];
  const ns = [...new Set(runs.map((r) => r.n))].sort((a, b) => a - b);
  const systems = ORDER.filter((s) => runs.some((r) => r.system === s));
  for (const n of ns) {
    for (const system of systems) {
      const r = runs.find((x) => x.system === system && x.n === n);
      if (!r) continue;
      if (r.failed) {
        lines.push(`| ${n} | ${SYSTEM_LABELS[system]} | failed: ${r.failed.replace(/\|/g, "/").slice(0, 120)} | | | | | | | |`);
        continue;
      }
      const q = rs.find((x) => x.system === system && x.n === n);
      const split = `${fmt(r.cpu.serverMsPerStreamSec)} / ${fmt(r.cpu.helpersMsPerStreamSec)}`;
      const lost = `${r.frames.lost}${r.frames.extra ? ` (+${r.frames.extra} extra)` : ""} / ${r.frames.pushed}${r.failedPublishes ? `, ${r.failedPublishes} publishes failed` : ""}${r.latency.incomplete ? `, ${r.latency.incomplete} pushes never complete` : ""}`;
      lines.push(
        `| ${n} | ${SYSTEM_LABELS[system]} | **${fmt(r.cpuMsPerStreamSec, 2)}** | ${q ? fmt(q.vsNginx, 2) : ""} | ${q ? fmt(q.vsNaive, 2) : ""} | ${split} | ${fmt(r.cpuShareOfMachine * 100, 0)} % | ${fmt(r.memory.peakRssMB, 0)} (${fmt(r.memory.peakRssMB / n, 1)}); ${fmt(r.memory.peakPssMB, 0)} | ${lost} | ${fmt(r.latency.p50Sec, 2)} / ${fmt(r.latency.p99Sec, 2)} |`,
      );
    }
  }
  return lines.join("\n");
}

function targetLines(runs, meta) {
  const rs = ratios(runs);
  const lines = [];
  const nMax = Math.max(...runs.map((r) => r.n));
  const worst = (system, key) => {
    const xs = rs.filter((x) => x.system === system && x[key] !== undefined);
    return xs.length ? xs.reduce((a, b) => (b[key] > a[key] ? b : a)) : undefined;
  };
  const yes = (ok) => (ok ? "**met**" : "**not met**");
  /** "met at N = 10, 50; not at N = 1" for a per-N check. */
  const where = (xs, key, limit) => {
    const good = xs.filter((x) => x[key] <= limit).map((x) => x.n);
    const bad = xs.filter((x) => x[key] > limit).map((x) => x.n);
    if (!bad.length) return "at every N";
    if (!good.length) return "at no N";
    return `met at N = ${good.join(", ")}; not at N = ${bad.join(", ")}`;
  };
  const a = worst("ours-all", "vsNaive");
  if (a) {
    const all = rs.filter((x) => x.system === "ours-all" && x.vsNaive !== undefined).map((x) => `N=${x.n}: ${fmt(x.vsNaive, 2)}×`).join(", ");
    const xs = rs.filter((x) => x.system === "ours-all" && x.vsNaive !== undefined);
    const lossy = runs.filter((r) => r.system === "naive" && !r.failed && r.frames.lost > 0);
    const caveat = lossy.length
      ? ` Where the naive recipe lost frames (${lossy.map((r) => `N=${r.n}: ${((100 * (r.frames.pushed - r.frames.lost)) / r.frames.pushed).toFixed(0)} % recorded`).join(", ")}) its CPU covers less work, so the ratio flatters it.`
      : "";
    lines.push(`- All four formats, CPU per stream-second ≤ 0.5× the naive recipe: ${yes(a.vsNaive <= 0.5)}, ${where(xs, "vsNaive", 0.5)} (${all}).${caveat}`);
  }
  const f = worst("ours-flv", "vsNginx");
  if (f) {
    const all = rs.filter((x) => x.system === "ours-flv" && x.vsNginx !== undefined).map((x) => `N=${x.n}: ${fmt(x.vsNginx, 2)}×`).join(", ");
    const xs = rs.filter((x) => x.system === "ours-flv" && x.vsNginx !== undefined);
    lines.push(`- FLV only, CPU per stream-second ≤ 1.5× nginx-rtmp: ${yes(f.vsNginx <= 1.5)}, ${where(xs, "vsNginx", 1.5)} (${all}).`);
  }
  const big = runs.find((r) => r.system === "ours-all" && r.n === nMax && !r.failed);
  if (big) {
    lines.push(
      `- ${nMax} concurrent streams, four formats, on ${meta.cpus} cores, 0 frames lost: ${yes(big.frames.lost === 0 && big.frames.missingFiles === 0)} (${big.frames.lost} of ${big.frames.pushed} lost${big.frames.missingFiles ? `, ${big.frames.missingFiles} outputs missing` : ""}; the service itself counted ${big.extra?.serverDroppedFrames ?? 0} dropped).`,
    );
  }
  const ours = runs.filter((r) => r.system.startsWith("ours") && !r.failed);
  if (ours.length) {
    const p99 = Math.max(...ours.map((r) => r.latency.serverP99Sec ?? r.latency.p99Sec ?? Number.POSITIVE_INFINITY));
    lines.push(`- Push end → every file of that push complete, p99 ≤ 2 s: ${yes(p99 <= 2)} (worst p99 over all runs of ours: ${fmt(p99, 2)} s, from the service's "push ended" to its last "file complete").`);
  }
  for (const system of ["ours-all", "ours-flv"]) {
    if (!runs.some((r) => r.system === system)) continue;
    const n = largestCleanN(runs, system);
    lines.push(`- Largest N where ${SYSTEM_LABELS[system]} records with 0 frames lost and CPU below 90 % of the machine: **${n ?? "none"}**.`);
  }
  return lines;
}

/** One line per run that lost frames: how much it recorded, and its CPU per stream-second actually recorded. */
function lossLines(runs) {
  const lines = [];
  const nginxTail = [];
  for (const r of runs) {
    if (r.failed || !r.frames || (r.frames.lost === 0 && !r.failedPublishes)) continue;
    const share = 1 - r.frames.lost / Math.max(1, r.frames.pushed);
    const worst = (r.outputsChecked ?? []).filter((c) => c.video < c.wantVideo || c.audio < c.wantAudio);
    const formats = [...new Set(worst.map((c) => c.format))].join(", ");
    const tailOnly = r.system === "nginx" && worst.every((c) => c.format === "hls" && c.video === c.wantVideo);
    const empty = worst.filter((c) => c.video === 0 && c.audio === 0).length;
    const naiveWhy =
      r.system === "naive"
        ? ` (its pullers start with the push, all at once: a puller that connects late begins at the GOP node-media-server has cached then, so the start of the push is missing${empty ? `; ${empty} outputs recorded nothing, their ffmpeg connected too late to probe the stream` : ""})`
        : "";
    if (tailOnly) {
      nginxTail.push(r);
      continue;
    }
    const why = `lost in ${formats || "–"}${naiveWhy}; ${(share * 100).toFixed(0)} % of the frames pushed were recorded, so per stream-second actually recorded it spent ${(r.cpuMsPerStreamSec / Math.max(share, 1e-9)).toFixed(1)} ms`;
    lines.push(`- ${SYSTEM_LABELS[r.system]}, N=${r.n}: ${r.frames.lost} of ${r.frames.pushed} frames lost${r.failedPublishes ? `, ${r.failedPublishes} publishes failed` : ""}: ${why}.`);
  }
  if (nginxTail.length) {
    const per = [...new Set(nginxTail.map((r) => Math.round(r.frames.lostAudio / r.n)))].join(" or ");
    lines.unshift(
      `- ${SYSTEM_LABELS.nginx}, ${nginxTail.map((r) => `N=${r.n}: ${r.frames.lost}`).join(", ")} frames lost: every push's HLS playlist misses its last ${per} AAC frames (nginx-rtmp holds audio back to fill the next PES packet and does not flush it when the push ends); its FLV recordings are complete.`,
    );
  }
  return lines;
}

export function markdown(results) {
  const { meta, runs } = results;
  const pubNote =
    meta.publisher === "node"
      ? "all publishers in one Node process (the project's RtmpPublisher, real-time pacing)"
      : "one `ffmpeg -re -stream_loop -1 -i source.flv -t T -c copy -f flv` process per stream";
  const pubCpu = [...new Set(runs.map((r) => r.n))]
    .sort((a, b) => a - b)
    .map((n) => {
      const xs = runs.filter((r) => r.n === n && !r.failed);
      const avg = xs.reduce((a, r) => a + r.publishers.cpuShareOfMachine, 0) / Math.max(1, xs.length);
      const busy = xs.reduce((a, r) => a + r.machineBusyShare, 0) / Math.max(1, xs.length);
      return `N=${n}: publishers ${fmt(avg * 100, 0)} %, whole machine ${fmt(busy * 100, 0)} %`;
    })
    .join("; ");
  return `# Recording cost, side by side (\`npm run bench\`)

${meta.date} · ${meta.cpus} × ${meta.cpuModel} · ${meta.memGB} GB · Node ${meta.node} · ffmpeg ${meta.ffmpegVersion}${meta.oursFfmpegVersion && meta.oursFfmpegVersion !== meta.ffmpegVersion ? ` (ours: ${meta.oursFfmpegVersion})` : ""} · ${meta.nginxVersion} + libnginx-mod-rtmp ${meta.nginxRtmpVersion} · node-media-server ${meta.nmsVersion}${meta.build ? ` · service build ${meta.build.snapshot} (dist/ of ${meta.build.builtAt})` : ""}

Each system ran on loopback, one after another, with N publishers pushing the same
pre-encoded source (${meta.source.description}) for ${meta.seconds} s each; ${pubNote}.
CPU is measured from /proc for the system's whole process tree (server plus every process it spawns),
from the first push to the last file complete, and divided by the stream-seconds pushed.

${markdownTable(runs)}

![CPU per stream-second vs N](latest.png)

## Targets

${targetLines(runs, meta).join("\n")}

## Frames lost

${lossLines(runs).join("\n") || "None."}

## How each figure is measured

- **CPU ms per stream-second**: utime+stime (+ cutime+cstime of reaped children) summed over the
  system's process tree, sampled every ${meta.sampleMs} ms from /proc (a process that exits is still
  counted: its time moves into its parent's cutime), between the first publisher's start and the last
  file complete; divided by the media seconds actually pushed (video frames sent ÷ ${meta.source.fps} fps, all streams).
  "server / helpers" splits it into the server process itself (node; for nginx-rtmp its master process) and
  everything it spawned (ffmpeg for ours and naive; nginx-rtmp's ${meta.cpus} worker processes, which do all its work).
  nginx-rtmp writes FLV + HLS only (it has no MP4 or AAC recording); ours-all and naive write all four formats. The publishers are not part
  of any system: their own CPU is measured apart (${pubCpu}).
- **CPU, % of 2 cores**: the system's CPU seconds while the publishers were pushing ÷ (wall time × ${meta.cpus}).
- **Peak RSS**: the largest sum of VmRSS over the tree's live processes in any sample (shared library
  pages count once per process, so this overstates many-process designs; peak PSS is in results.json).
- **Frames lost**: each publisher's own count of what it sent (ffmpeg's "Output stream (video|audio): N packets muxed"),
  against \`ffprobe -count_packets\` on every output of that stream: video frames and audio frames in every FLV file,
  MP4 file and HLS playlist (all segments; nginx-rtmp's playlist has no ENDLIST, so it is read through a VOD copy),
  audio frames in every AAC file. The figure is Σ over outputs of max(0, pushed − recorded), video and audio frames together;
  "pushed" counts each stream once per output format.
- **Push end → last file**: per stream, from its publisher's exit to the last of its files being complete:
  ours: the service's last "file complete" log line for that push (files appear under their final names only when complete);
  nginx-rtmp: the newest mtime among the stream's FLV files, playlist and fragments once they stop changing;
  naive: the last of its four ffmpeg pullers exiting (${
    meta.naiveRwTimeoutSec > 0
      ? `they stop by themselves after \`-rw_timeout ${meta.naiveRwTimeoutSec} s\` without data`
      : "node-media-server never tells a player that the publisher left; on its `donePublish` event, which v4 emits after a 30 s resume window, the pullers' play sessions are closed and each ffmpeg finishes its file"
  }). The targets use ours' own "push ended" → last "file complete" (p99 in results.json, \`serverP99Sec\`).

- **Peak RSS**, "PSS": the same sum with shared pages divided among the processes that map them (\`/proc/<pid>/smaps_rollup\`, read every ${meta.sampleMs * 4} ms).

Raw numbers, per-stream latencies, per-output frame counts, the server's user/system time by thread, its read/write
syscalls and context switches per stream-second, and the helpers' CPU by command: \`results.json\`.
`;
}

/** Plain-text table for the console. */
export function consoleTable(runs) {
  const rs = ratios(runs);
  const head = ["N", "system", "CPU ms/stream-s", "÷nginx", "÷naive", "server/helpers", "CPU %", "RSS MB", "lost/pushed", "p50/p99 s"];
  const rows = [head];
  for (const r of [...runs].sort((a, b) => a.n - b.n)) {
    if (r.failed) {
      rows.push([String(r.n), r.system, "FAILED", "", "", "", "", "", "", r.failed.slice(0, 60)]);
      continue;
    }
    const q = rs.find((x) => x.system === r.system && x.n === r.n);
    rows.push([
      String(r.n),
      r.system,
      fmt(r.cpuMsPerStreamSec, 2),
      q ? fmt(q.vsNginx, 2) : "",
      q ? fmt(q.vsNaive, 2) : "",
      `${fmt(r.cpu.serverMsPerStreamSec)}/${fmt(r.cpu.helpersMsPerStreamSec)}`,
      fmt(r.cpuShareOfMachine * 100, 0),
      fmt(r.memory.peakRssMB, 0),
      `${r.frames.lost}/${r.frames.pushed}`,
      `${fmt(r.latency.p50Sec, 2)}/${fmt(r.latency.p99Sec, 2)}`,
    ]);
  }
  const widths = head.map((_, i) => Math.max(...rows.map((row) => row[i].length)));
  return rows.map((row) => row.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ")).join("\n");
}

function esc(s) {
  return String(s).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** Line chart: CPU ms per stream-second vs N, one line per system. */
export function chartSvg(runs, meta) {
  const W = 1040;
  const H = 600;
  const m = { l: 80, r: 330, t: 70, b: 80 };
  const pw = W - m.l - m.r;
  const ph = H - m.t - m.b;
  const ns = [...new Set(runs.map((r) => r.n))].sort((a, b) => a - b);
  const ok = runs.filter((r) => !r.failed && Number.isFinite(r.cpuMsPerStreamSec));
  const maxY = Math.max(1, ...ok.map((r) => r.cpuMsPerStreamSec));
  const step = [1, 2, 5, 10, 20, 25, 50, 100].find((s) => maxY / s <= 8) ?? 100;
  const top = Math.ceil((maxY * 1.05) / step) * step;
  // N on a log scale (1, 10, 50, 100 spread evenly enough); a single N sits in the middle.
  const lx = (n) => Math.log10(n);
  const x0 = lx(ns[0]);
  const x1 = lx(ns.at(-1));
  const X = (n) => m.l + 20 + (x1 > x0 ? ((lx(n) - x0) / (x1 - x0)) * (pw - 40) : pw / 2);
  const Y = (v) => m.t + ph - (v / top) * ph;
  const out = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="DejaVu Sans, sans-serif">`);
  out.push(`<rect width="${W}" height="${H}" fill="#ffffff"/>`);
  out.push(`<text x="${m.l}" y="32" font-size="20" font-weight="bold">CPU per recorded stream-second vs concurrent streams</text>`);
  out.push(`<text x="${m.l}" y="54" font-size="13" fill="#555">${esc(`${meta.cpus} cores, ${meta.seconds} s pushes of 720p H.264 ~2 Mbps + AAC, all in one run; lower is better`)}</text>`);
  for (let v = 0; v <= top + 1e-9; v += step) {
    out.push(`<line x1="${m.l}" y1="${Y(v)}" x2="${m.l + pw}" y2="${Y(v)}" stroke="#e3e3e3"/>`);
    out.push(`<text x="${m.l - 8}" y="${Y(v) + 4}" font-size="13" text-anchor="end">${v}</text>`);
  }
  for (const n of ns) {
    out.push(`<line x1="${X(n)}" y1="${m.t + ph}" x2="${X(n)}" y2="${m.t + ph + 6}" stroke="#333"/>`);
    out.push(`<text x="${X(n)}" y="${m.t + ph + 22}" font-size="13" text-anchor="middle">${n}</text>`);
  }
  out.push(`<line x1="${m.l}" y1="${m.t + ph}" x2="${m.l + pw}" y2="${m.t + ph}" stroke="#333"/>`);
  out.push(`<line x1="${m.l}" y1="${m.t}" x2="${m.l}" y2="${m.t + ph}" stroke="#333"/>`);
  out.push(`<text x="${m.l + pw / 2}" y="${m.t + ph + 48}" font-size="14" text-anchor="middle">N, concurrent publishers (log scale)</text>`);
  out.push(`<text transform="translate(26 ${m.t + ph / 2}) rotate(-90)" font-size="14" text-anchor="middle">CPU ms per stream-second</text>`);
  const systems = ORDER.filter((s) => ok.some((r) => r.system === s));
  const labels = [];
  systems.forEach((s, i) => {
    const pts = ok.filter((r) => r.system === s).sort((a, b) => a.n - b.n);
    const d = pts.map((r, k) => `${k ? "L" : "M"}${X(r.n).toFixed(1)},${Y(r.cpuMsPerStreamSec).toFixed(1)}`).join(" ");
    out.push(`<path d="${d}" fill="none" stroke="${COLORS[s]}" stroke-width="3"/>`);
    for (const r of pts) {
      // Hollow marker: this run lost frames (or failed publishes), its CPU figure covers less work.
      const lossy = r.frames.lost > 0 || r.failedPublishes > 0;
      out.push(`<circle cx="${X(r.n).toFixed(1)}" cy="${Y(r.cpuMsPerStreamSec).toFixed(1)}" r="5.5" fill="${lossy ? "#ffffff" : COLORS[s]}" stroke="${COLORS[s]}" stroke-width="2.5"/>`);
      labels.push({ n: r.n, y: Y(r.cpuMsPerStreamSec), text: r.cpuMsPerStreamSec.toFixed(1), color: COLORS[s] });
    }
    const ly = m.t + 10 + i * 28;
    const lx0 = m.l + pw + 28;
    out.push(`<line x1="${lx0}" y1="${ly}" x2="${lx0 + 30}" y2="${ly}" stroke="${COLORS[s]}" stroke-width="3"/>`);
    out.push(`<circle cx="${lx0 + 15}" cy="${ly}" r="5" fill="${COLORS[s]}"/>`);
    out.push(`<text x="${lx0 + 40}" y="${ly + 5}" font-size="13">${esc(SYSTEM_LABELS[s])}</text>`);
  });
  const noteY = m.t + 10 + systems.length * 28 + 10;
  const lx0 = m.l + pw + 28;
  out.push(`<circle cx="${lx0 + 15}" cy="${noteY}" r="5" fill="#ffffff" stroke="#555" stroke-width="2.5"/>`);
  out.push(`<text x="${lx0 + 40}" y="${noteY + 5}" font-size="13" fill="#555">frames lost in that run</text>`);
  out.push(`<text x="${lx0}" y="${noteY + 34}" font-size="12" fill="#555">nginx-rtmp writes FLV + HLS only</text>`);
  // Value labels right of each point, pushed apart vertically where lines meet.
  for (const n of ns) {
    const here = labels.filter((l) => l.n === n).sort((a, b) => a.y - b.y);
    let prev = Number.NEGATIVE_INFINITY;
    for (const l of here) {
      const y = Math.max(l.y - 9, prev + 14);
      prev = y;
      out.push(
        `<text x="${(X(n) + 8).toFixed(1)}" y="${y.toFixed(1)}" font-size="12" font-weight="bold" fill="${l.color}" stroke="#ffffff" stroke-width="4" paint-order="stroke">${l.text}</text>`,
      );
    }
  }
  out.push("</svg>");
  return out.join("\n");
}

export async function renderPng(svg, path) {
  const { Resvg } = await import("@resvg/resvg-js");
  const png = new Resvg(svg, { font: { loadSystemFonts: true, defaultFontFamily: "DejaVu Sans" }, fitTo: { mode: "width", value: 1440 } }).render().asPng();
  await writeFile(path, png);
}

export async function writeResults(dir, results) {
  await writeFile(join(dir, "results.json"), `${JSON.stringify(results, null, 2)}\n`);
  const md = markdown(results);
  await writeFile(join(dir, "results.md"), md);
  const svg = chartSvg(results.runs, results.meta);
  await writeFile(join(dir, "cpu-per-stream.svg"), svg);
  await renderPng(svg, join(dir, "latest.png"));
  return md;
}
