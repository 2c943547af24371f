#!/usr/bin/env node
/**
 * `npm run bench`: cost per recorded stream, scale and time to a finished
 * file, for our service and its peers, one after another on this machine.
 *
 *   node scripts/bench/run.mjs [--n 1,10,50,100] [--seconds 30]
 *        [--systems ours-all,ours-flv,nginx,naive] [--out .bench/results]   (also: ours-ingest, every format off)
 *        [--publisher ffmpeg|node] [--stagger-ms 20] [--record-interval 60]
 *        [--hls-seconds 10] [--naive-rw-timeout 0] [--cooldown 5]
 *        [--cpu-prof] [--keep] [--save-latest] [--no-install] [--report-only]
 *        [--ffmpeg PATH] [--ours-ffmpeg PATH] [--ffprobe PATH]
 *
 * --ffmpeg is used by everything (publishers, the naive recipe, our service);
 * --ours-ffmpeg changes only the one our service runs.
 *
 * --publisher ffmpeg (default): one `ffmpeg -re -c copy` per stream, what
 * users push with; it writes every RTMP chunk header and body separately,
 * and the servers' ingest cost depends on that. It costs ~11 ms CPU per
 * stream-second itself (a third of the machine at N=100), measured and
 * reported apart. --publisher node: every stream from one Node process
 * (the project's RtmpPublisher, real-time pacing), ~2 ms per stream-second,
 * but one write per message, which flatters every server's ingest.
 *
 * For each N, every system in turn (interleaved, so slow drifts in the
 * machine's background load hit all systems alike): start it on loopback,
 * push N streams of the cached source for --seconds, wait for every file
 * to be complete, read the tree's CPU/memory from /proc, stop it, then
 * count the frames in every output with ffprobe. Results (JSON, Markdown,
 * PNG chart) go to --out; --save-latest also copies the Markdown and the
 * chart to scripts/bench/results/latest.{md,png}. --report-only rewrites
 * the Markdown and the chart from --out's results.json without running.
 */
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { closeSync, copyFileSync, cpSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { dirname, join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { CLK_TCK, cpuSecondsBetween, machineBusyBetween, peakCores, readWakeups, Sampler, threadTicksByName } from "./proc.mjs";
import { summarizeCpuProfile } from "./profile.mjs";
import { consoleTable, largestCleanN, SYSTEM_LABELS, writeResults } from "./report.mjs";
import { ensureSource } from "./source.mjs";
import { NaiveSystem, NginxSystem, OursSystem, withTimeout } from "./systems.mjs";
import { verifyOutputs } from "./verify.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, "../..");
const ALL_SYSTEMS = ["ours-all", "ours-flv", "nginx", "naive"];
/** Diagnostic only (not in the default set): our service with every format off, i.e. RTMP ingest alone. */
const EXTRA_SYSTEMS = ["ours-ingest"];
const SAMPLE_MS = 250;

const { values: o } = parseArgs({
  options: {
    n: { type: "string", default: "1,10,50,100" },
    seconds: { type: "string", default: "30" },
    systems: { type: "string", default: ALL_SYSTEMS.join(",") },
    out: { type: "string", default: ".bench/results" },
    publisher: { type: "string", default: "ffmpeg" },
    "stagger-ms": { type: "string", default: "20" },
    "record-interval": { type: "string", default: "60" },
    "hls-seconds": { type: "string", default: "10" },
    "naive-rw-timeout": { type: "string", default: "0" },
    cooldown: { type: "string", default: "5" },
    "cpu-prof": { type: "boolean", default: false },
    keep: { type: "boolean", default: false },
    "save-latest": { type: "boolean", default: false },
    "no-install": { type: "boolean", default: false },
    "report-only": { type: "boolean", default: false },
    ffmpeg: { type: "string" },
    "ours-ffmpeg": { type: "string" },
    ffprobe: { type: "string" },
    help: { type: "boolean", short: "h", default: false },
  },
});

if (o.help) {
  process.stdout.write(readFileSync(fileURLToPath(import.meta.url), "utf8").split("*/")[0].replace(/^#!.*\n\/\*\*\n/, "").replace(/^ \* ?/gm, ""));
  process.exit(0);
}

const ns = o.n.split(",").map(Number);
const seconds = Number(o.seconds);
const systems = o.systems.split(",").map((s) => s.trim());
const bad = systems.filter((s) => !ALL_SYSTEMS.includes(s) && !EXTRA_SYSTEMS.includes(s));
if (bad.length || ns.some((n) => !Number.isInteger(n) || n < 1) || !(seconds > 0) || !["ffmpeg", "node"].includes(o.publisher)) {
  process.stderr.write(`bad arguments${bad.length ? `: unknown system ${bad.join(", ")} (known: ${ALL_SYSTEMS.join(", ")})` : ""}; see --help\n`);
  process.exit(2);
}
const outDir = resolve(repo, o.out);
const benchDir = resolve(repo, ".bench");
const ffmpeg = o.ffmpeg ?? process.env.FFMPEG_PATH ?? "ffmpeg";
const ffprobe = o.ffprobe ?? process.env.FFPROBE_PATH ?? "ffprobe";
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const log = (msg) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);

function versionLine(cmd, args, re) {
  const r = spawnSync(cmd, args, { encoding: "utf8" });
  const text = `${r.stdout ?? ""}${r.stderr ?? ""}`;
  return re.exec(text)?.[1] ?? "unknown";
}

function nginxReady() {
  return spawnSync("nginx", ["-v"], { stdio: "ignore" }).status === 0 && NginxSystem.modulePath() !== undefined;
}

function ensureNginx() {
  if (nginxReady()) return;
  if (o["no-install"]) throw new Error("nginx with the RTMP module is missing (apt-get install nginx libnginx-mod-rtmp), and --no-install was given");
  log("nginx-rtmp missing: apt-get install -y nginx libnginx-mod-rtmp (Debian's packages)");
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  const install = () => spawnSync("apt-get", ["install", "-y", "--no-install-recommends", "nginx", "libnginx-mod-rtmp"], { stdio: "inherit", env }).status === 0;
  if (!install()) {
    spawnSync("apt-get", ["update"], { stdio: "inherit", env });
    install();
  }
  if (!nginxReady()) throw new Error("could not install nginx + libnginx-mod-rtmp");
}

/**
 * Copies the built service (dist/, bin/) to .bench/build/<hash>/ and runs
 * it from there: every run of one bench measures the same build, even if
 * dist/ is rebuilt meanwhile. Modules still resolve from ./node_modules.
 */
function snapshotBuild() {
  const dist = join(repo, "dist");
  if (!existsSync(join(dist, "orchestrator/cli/main.js"))) throw new Error("dist/ is missing: run `npm run build` (npm ci does it) first");
  const hash = createHash("sha256");
  let newest = 0;
  const walk = (dir) => {
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      const st = statSync(p);
      if (st.isDirectory()) walk(p);
      else if (name.endsWith(".js")) {
        hash.update(p.slice(dist.length)).update(readFileSync(p));
        newest = Math.max(newest, st.mtimeMs);
      }
    }
  };
  walk(dist);
  const id = hash.digest("hex").slice(0, 12);
  const dir = join(benchDir, "build", id);
  if (!existsSync(join(dir, "bin/recorder.js"))) {
    rmSync(dir, { recursive: true, force: true });
    cpSync(dist, join(dir, "dist"), { recursive: true });
    cpSync(join(repo, "bin"), join(dir, "bin"), { recursive: true });
  }
  return { dir, id, builtAt: new Date(newest).toISOString() };
}

/** Nearest-rank percentile. */
function percentile(xs, p) {
  if (xs.length === 0) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))];
}

function makeSystem(name, workDir, build) {
  const ours = { ffmpeg: o["ours-ffmpeg"] ?? ffmpeg };
  const common = { repo, buildDir: build.dir, workDir, ffmpeg, recordInterval: Number(o["record-interval"]), hlsSeconds: Number(o["hls-seconds"]) };
  switch (name) {
    case "ours-all":
      return new OursSystem({ ...common, ...ours, name, formats: ["flv", "hls", "mp4", "aac"], cpuProfDir: o["cpu-prof"] ? join(outDir, "profiles", `${name}-n`) : undefined });
    case "ours-ingest":
      return new OursSystem({ ...common, ...ours, name, formats: [], cpuProfDir: o["cpu-prof"] ? join(outDir, "profiles", `${name}-n`) : undefined });
    case "ours-flv":
      return new OursSystem({ ...common, ...ours, name, formats: ["flv"], cpuProfDir: o["cpu-prof"] ? join(outDir, "profiles", `${name}-n`) : undefined });
    case "nginx":
      return new NginxSystem(common);
    case "naive":
      return new NaiveSystem({ ...common, rwTimeoutSec: Number(o["naive-rw-timeout"]) });
  }
  throw new Error(name);
}

/** Starts the publisher group; resolves with its exits once every publisher is done. */
function startPublishers(n, port, source, workDir, build) {
  const args = [join(here, "publish.mjs"), "--mode", o.publisher, "--n", String(n), "--seconds", String(seconds), "--dist", join(build.dir, "dist")];
  args.push("--url", `rtmp://127.0.0.1:${port}/live/s`, "--source", source, "--stagger-ms", o["stagger-ms"], "--ffmpeg", ffmpeg);
  const logFd = openSync(join(workDir, "publishers.log"), "w");
  const child = spawn(process.execPath, args, { cwd: repo, stdio: ["pipe", "pipe", logFd] });
  closeSync(logFd);
  const exits = new Map();
  const problems = [];
  const done = new Promise((resolveDone, reject) => {
    child.once("exit", (code) => reject(new Error(`publisher group exited early (${code})`)));
    createInterface({ input: child.stdout }).on("line", (line) => {
      const e = JSON.parse(line);
      if (e.event === "exit") {
        exits.set(e.stream, e);
        if (e.code !== 0) problems.push(`${e.stream}: exit ${e.code} ${e.error ?? ""}`.trim());
      } else if (e.event === "done") resolveDone(e.t);
    });
  });
  return { child, exits, problems, done };
}

async function runOne(system, n, source, build) {
  const workDir = join(outDir, "work", `${system}-n${n}`);
  rmSync(workDir, { recursive: true, force: true });
  mkdirSync(workDir, { recursive: true });
  const sys = makeSystem(system, workDir, build);
  if (sys.cpuProfDir) sys.cpuProfDir += n;
  await sys.start();
  const sampler = new Sampler({ intervalMs: SAMPLE_MS });
  const server = sampler.track("server", sys.pid, { pss: true });
  sampler.start();
  await sleep(1000);
  const result = { system, label: SYSTEM_LABELS[system], n, seconds, publisher: o.publisher };
  /** stream -> what its publisher says it sent. */
  const sent = {};
  try {
    sampler.sampleNow();
    const threads0 = threadTicksByName(sys.pid);
    const wake0 = readWakeups(sys.pid);
    const t0 = Date.now();
    const pub = startPublishers(n, sys.rtmpPort, source.file, workDir, build);
    const pubTree = sampler.track("publishers", pub.child.pid);
    await withTimeout(pub.done, (seconds * 4 + 120) * 1000, "publishers did not finish in time");
    const exitTimes = [...pub.exits.values()].map((e) => e.t);
    const tPushEnd = Math.max(...exitTimes);
    sampler.sampleNow();
    const pubCpu = cpuSecondsBetween(pubTree, t0, Date.now());
    const pubPeakCores = peakCores(pubTree);
    pub.child.stdin.end();
    sampler.untrack("publishers");
    // A publisher that failed (refused, timed out) pushed nothing we can hold the system to: it is
    // reported as a failed publish, and only the others are waited for and checked.
    const ok = [...pub.exits].filter(([, e]) => e.code === 0);
    for (const [stream, e] of ok) sent[stream] = { video: e.video, audio: e.audio };
    const exits = new Map(ok.map(([s, e]) => [s, e.t]));
    const done = await sys.waitDone(exits, 120_000);
    sampler.sampleNow();
    const tDone = Date.now();
    const threads1 = threadTicksByName(sys.pid);
    const wake1 = readWakeups(sys.pid);
    sampler.stop();
    const cpu = cpuSecondsBetween(server, t0, tDone);
    const inPush = cpuSecondsBetween(server, t0, tPushEnd);
    const videoSent = ok.reduce((a, [, e]) => a + e.video, 0);
    const streamSeconds = videoSent / source.fps;
    const cores = cpus().length;
    const latencies = [];
    const serverLatencies = [];
    const perStream = {};
    for (const [stream, exitT] of exits) {
      const d = done.get(stream);
      perStream[stream] = { publisherExit: exitT, lastFile: d?.t, pushEnded: d?.pushEnded };
      if (!d) continue;
      latencies.push(Math.max(0, d.t - exitT) / 1000);
      if (d.pushEnded !== undefined) serverLatencies.push(Math.max(0, d.t - d.pushEnded) / 1000);
    }
    const helpersByComm = Object.fromEntries(Object.entries(server.helperTicksByComm()).map(([k, v]) => [k, v / CLK_TCK]));
    const serverThreads = {};
    for (const [name, t] of Object.entries(threads1)) {
      const before = threads0[name] ?? { user: 0, sys: 0 };
      serverThreads[name] = { userSec: (t.user - before.user) / CLK_TCK, sysSec: (t.sys - before.sys) / CLK_TCK };
    }
    Object.assign(result, {
      streamSeconds,
      cpuSec: cpu.total,
      cpuMsPerStreamSec: (cpu.total * 1000) / streamSeconds,
      cpu: {
        serverSec: cpu.root,
        helpersSec: cpu.total - cpu.root,
        serverMsPerStreamSec: (cpu.root * 1000) / streamSeconds,
        helpersMsPerStreamSec: ((cpu.total - cpu.root) * 1000) / streamSeconds,
        serverUserSec: cpu.rootUser,
        serverSysSec: cpu.rootSys,
        serverThreads,
        /** The server process's own wake-ups per stream-second: read/write syscalls, context switches. */
        serverWakeupsPerStreamSec: Object.fromEntries(Object.keys(wake1).map((k) => [k, (wake1[k] - wake0[k]) / streamSeconds])),
        serverComm: server.rootComm,
        helpersByCommSec: helpersByComm,
        peakCores: peakCores(server),
      },
      cpuShareOfMachine: inPush.total / inPush.wallSec / cores,
      machineBusyShare: machineBusyBetween(sampler.machine, t0, tPushEnd),
      pushWallSec: (tPushEnd - t0) / 1000,
      finishWallSec: (tDone - tPushEnd) / 1000,
      memory: {
        peakRssMB: server.peakRssBytes / 2 ** 20,
        peakPssMB: server.peakPssBytes / 2 ** 20,
        peakProcesses: server.peakProcs,
      },
      publishers: {
        mode: o.publisher,
        cpuSec: pubCpu.total,
        msPerStreamSec: (pubCpu.total * 1000) / streamSeconds,
        cpuShareOfMachine: pubCpu.total / ((tPushEnd - t0) / 1000) / cores,
        peakCores: pubPeakCores,
        errors: pub.problems,
      },
      failedPublishes: pub.exits.size - ok.length,
      latency: {
        completed: latencies.length,
        incomplete: exits.size - latencies.length,
        p50Sec: percentile(latencies, 0.5),
        p99Sec: percentile(latencies, 0.99),
        maxSec: latencies.length ? Math.max(...latencies) : undefined,
        serverP50Sec: percentile(serverLatencies, 0.5),
        serverP99Sec: percentile(serverLatencies, 0.99),
      },
      perStream,
      extra: sys.extraStats(),
    });
  } catch (err) {
    result.failed = err instanceof Error ? err.message : String(err);
  } finally {
    sampler.stop();
    await sys.stop();
  }
  result.problems = [...new Set(sys.problems)].slice(0, 20);
  if (!result.failed) {
    const check = await verifyOutputs(ffprobe, sys.outputs(), sent, sys.formats);
    result.frames = {
      ...check.totals,
      pushed: check.totals.videoSent + check.totals.audioSent,
      extra: check.totals.extraVideo + check.totals.extraAudio,
    };
    result.outputsChecked = check.rows.filter((r) => r.wantVideo !== r.video || r.wantAudio !== r.audio || r.errors);
  }
  if (!o.keep) rmSync(workDir, { recursive: true, force: true, maxRetries: 5 });
  return result;
}

function printSummary(runs, systemsRun) {
  process.stdout.write(`\n${consoleTable(runs)}\n\n`);
  for (const s of ["ours-all", "ours-flv"].filter((x) => systemsRun.includes(x))) {
    process.stdout.write(`largest N with 0 frames lost and CPU < 90 % of the machine, ${SYSTEM_LABELS[s]}: ${largestCleanN(runs, s) ?? "none"}\n`);
  }
  process.stdout.write(`\nresults: ${join(outDir, "results.md")}, results.json, latest.png\n`);
  if (o["save-latest"]) {
    const latest = join(here, "results");
    mkdirSync(latest, { recursive: true });
    copyFileSync(join(outDir, "results.md"), join(latest, "latest.md"));
    copyFileSync(join(outDir, "latest.png"), join(latest, "latest.png"));
    process.stdout.write(`copied to ${latest}/latest.md and latest.png\n`);
  }
}

async function main() {
  mkdirSync(outDir, { recursive: true });
  if (o["report-only"]) {
    const results = JSON.parse(readFileSync(join(outDir, "results.json"), "utf8"));
    await writeResults(outDir, results);
    printSummary(results.runs, results.meta.systems);
    return;
  }
  if (systems.includes("nginx")) ensureNginx();
  const source = await ensureSource(join(benchDir, "source"), ffmpeg, ffprobe, log);
  const build = snapshotBuild();
  log(`measuring the build in dist/ as of ${build.builtAt} (snapshot ${build.id})`);
  const meta = {
    date: new Date().toISOString(),
    build: { snapshot: build.id, builtAt: build.builtAt },
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? "unknown",
    memGB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    ffmpeg,
    ffmpegVersion: versionLine(ffmpeg, ["-hide_banner", "-version"], /ffmpeg version (\S+)/),
    oursFfmpeg: o["ours-ffmpeg"] ?? ffmpeg,
    oursFfmpegVersion: versionLine(o["ours-ffmpeg"] ?? ffmpeg, ["-hide_banner", "-version"], /ffmpeg version (\S+)/),
    nginxVersion: systems.includes("nginx") ? versionLine("nginx", ["-v"], /version: (\S+)/) : "–",
    nginxRtmpVersion: systems.includes("nginx") ? versionLine("dpkg-query", ["-W", "-f", "$" + "{Version}", "libnginx-mod-rtmp"], /(\S+)/) : "–",
    nmsVersion: JSON.parse(readFileSync(join(repo, "node_modules/node-media-server/package.json"), "utf8")).version,
    seconds,
    ns,
    systems,
    publisher: o.publisher,
    staggerMs: Number(o["stagger-ms"]),
    recordIntervalSec: Number(o["record-interval"]),
    hlsSegmentSec: Number(o["hls-seconds"]),
    naiveRwTimeoutSec: Number(o["naive-rw-timeout"]),
    sampleMs: SAMPLE_MS,
    cpuProfiled: o["cpu-prof"],
    source: { ...source, file: source.file.replace(`${repo}/`, "") },
  };
  const results = { meta, runs: [] };
  log(`source: ${source.description}`);
  log(`plan: N = ${ns.join(", ")}; ${seconds} s pushes; systems ${systems.join(", ")}; publishers: ${o.publisher}`);
  for (const n of ns) {
    for (const system of systems) {
      log(`${system}, N = ${n}: running`);
      const result = await runOne(system, n, source, build);
      results.runs.push(result);
      if (result.failed) log(`${system}, N = ${n}: FAILED: ${result.failed}`);
      else {
        log(
          `${system}, N = ${n}: ${result.cpuMsPerStreamSec.toFixed(2)} ms CPU per stream-second (server ${result.cpu.serverMsPerStreamSec.toFixed(2)} + helpers ${result.cpu.helpersMsPerStreamSec.toFixed(2)}), ` +
            `${(result.cpuShareOfMachine * 100).toFixed(0)} % of the machine, peak RSS ${result.memory.peakRssMB.toFixed(0)} MB, ` +
            `frames lost ${result.frames.lost}/${result.frames.pushed}, p50/p99 ${result.latency.p50Sec?.toFixed(2)}/${result.latency.p99Sec?.toFixed(2)} s; ` +
            `publishers ${(result.publishers.cpuShareOfMachine * 100).toFixed(0)} % of the machine`,
        );
      }
      await writeResults(outDir, results);
      await sleep(Number(o.cooldown) * 1000);
    }
  }
  await writeResults(outDir, results);
  if (o["cpu-prof"]) {
    const dir = join(outDir, "profiles");
    for (const sub of existsSync(dir) ? readdirSync(dir) : []) {
      for (const f of readdirSync(join(dir, sub)).filter((x) => x.endsWith(".cpuprofile"))) {
        const text = summarizeCpuProfile(join(dir, sub, f));
        writeFileSync(join(dir, sub, `${f.replace(/\.cpuprofile$/, "")}.summary.txt`), `${text}\n`);
        process.stdout.write(`\n${sub}:\n${text}\n`);
      }
    }
  }
  printSummary(results.runs, systems);
}

await main();
