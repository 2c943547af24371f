#!/usr/bin/env node
/**
 * `npm run load`: N concurrent real streams (default 50; the bench's 2 Mbps 720p source,
 * replayed by `ffmpeg -re -c copy`) into our service with all four formats for a fixed time,
 * then every stream's recordings are checked frame for frame:
 *  - counts: video and audio frames in every FLV, MP4, HLS and AAC output vs what each
 *    publisher reports it sent (the bench's accounting);
 *  - content: the video packets of each stream's FLV and MP4 files, in order, hashed
 *    (`ffmpeg -c copy -f framemd5`) and compared with the source's packets, looped as pushed.
 * Prints frames in, frames recorded, frames lost (must be 0) and peak RSS; exits 1 otherwise.
 * Not part of `npm test` (it takes several minutes).
 *
 *   node scripts/load.mjs [--n 50] [--seconds 30] [--out .bench/load]
 */
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { mapLimit } from "./bench/verify.mjs";

const repo = resolve(fileURLToPath(new URL("..", import.meta.url)));
const { values: o } = parseArgs({
  options: {
    n: { type: "string", default: "50" },
    seconds: { type: "string", default: "30" },
    out: { type: "string", default: ".bench/load" },
  },
});
const out = resolve(repo, o.out);

const bench = spawnSync(
  process.execPath,
  [join(repo, "scripts/bench/run.mjs"), "--systems", "ours-all", "--n", o.n, "--seconds", o.seconds, "--out", out, "--keep", "--no-install"],
  { cwd: repo, stdio: "inherit" },
);
if (bench.status !== 0) process.exit(bench.status ?? 1);

const results = JSON.parse(readFileSync(join(out, "results.json"), "utf8"));
const run = results.runs.find((r) => r.system === "ours-all" && r.n === Number(o.n));
const source = results.meta?.source?.file ?? readdirSync(join(repo, ".bench/source")).map((f) => join(repo, ".bench/source", f)).find((f) => f.endsWith(".flv"));

function videoPacketHashes(file) {
  const r = spawnSync("ffmpeg", ["-nostdin", "-v", "error", "-i", file, "-map", "0:v:0", "-c", "copy", "-f", "framemd5", "-"], { encoding: "utf8", maxBuffer: 256 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`ffmpeg could not read ${file}: ${r.stderr}`);
  return r.stdout.split("\n").filter((l) => l && !l.startsWith("#")).map((l) => l.split(",").pop().trim());
}

const sourceHashes = videoPacketHashes(source);
const streamsDir = join(out, "work", `ours-all-n${o.n}`, "data", "recordings", "127.0.0.1", "live");
const streams = readdirSync(streamsDir).sort();
let mismatched = 0;
const checked = await mapLimit(streams, 2, async (stream) => {
  const dir = join(streamsDir, stream);
  const result = { stream };
  for (const ext of ["flv", "mp4"]) {
    const files = readdirSync(dir).filter((f) => f.endsWith(`.${ext}`)).sort().map((f) => join(dir, f));
    const got = files.flatMap(videoPacketHashes);
    // The publisher loops the source (-stream_loop -1): packet i is source packet i mod length.
    const bad = got.findIndex((h, i) => h !== sourceHashes[i % sourceHashes.length]);
    result[ext] = { frames: got.length, firstMismatch: bad };
    if (bad >= 0) mismatched++;
  }
  return result;
});

const f = run.frames;
const summary = {
  streams: Number(o.n),
  seconds: Number(o.seconds),
  framesIn: f.pushed,
  framesRecorded: f.pushed - f.lost + f.extra,
  framesLost: f.lost,
  extraFrames: f.extra,
  streamsWithMismatchedPackets: mismatched,
  droppedByService: run.extra?.serverDroppedFrames ?? 0,
  peakRssMB: Math.round(run.memory.peakRssMB),
  peakPssMB: Math.round(run.memory.peakPssMB),
  cpuShareOfMachine: `${Math.round(run.cpuShareOfMachine * 100)} %`,
};
console.log("\nload test:");
console.table([summary]);
console.log(`frame-for-frame: ${checked.length - mismatched}/${checked.length} streams' FLV and MP4 video packets equal the source's, in order`);
const ok = f.lost === 0 && f.extra === 0 && mismatched === 0 && (run.extra?.serverErrors ?? 0) === 0;
console.log(ok ? "PASS: 0 frames lost" : "FAIL");
process.exit(ok ? 0 : 1);
