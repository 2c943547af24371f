/**
 * The publishers of one bench run, in a process of their own, so their CPU
 * is measured apart from the system under test (and so that, once every
 * ffmpeg publisher has been reaped, this process's cutime holds their
 * exact CPU time).
 *
 *   node scripts/bench/publish.mjs --mode ffmpeg|node --n N --seconds T \
 *        --url rtmp://127.0.0.1:PORT/live/s --source FILE [--stagger-ms 20] [--ffmpeg PATH] [--dist DIR]
 *
 * Publishes streams `<url>1` .. `<url>N`. Reports on stdout, one JSON line
 * each: {"event":"start","stream"}, {"event":"exit","stream","t","video","audio","code"}
 * (frames it actually sent) and {"event":"done"}; then waits for stdin to
 * close before exiting, so the caller can read its final CPU totals.
 *
 * Modes:
 *  - ffmpeg: one `ffmpeg -re -stream_loop -1 -i FILE -t T -c copy -f flv URL`
 *    per stream, what users run. Frames sent are ffmpeg's own count
 *    ("Output stream #0:0 (video): N packets muxed", logged at -loglevel verbose).
 *  - node: every stream from this one process with the project's
 *    RtmpPublisher (dist/engine/rtmp/rtmp-publisher.js), tags paced in real
 *    time by their timestamps, looping the file with continuous timestamps.
 */
import { spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";

const { values: o } = parseArgs({
  options: {
    mode: { type: "string", default: "ffmpeg" },
    n: { type: "string" },
    seconds: { type: "string" },
    url: { type: "string" },
    source: { type: "string" },
    "stagger-ms": { type: "string", default: "20" },
    ffmpeg: { type: "string", default: "ffmpeg" },
    dist: { type: "string", default: new URL("../../dist", import.meta.url).pathname },
  },
});
const n = Number(o.n);
const seconds = Number(o.seconds);
const staggerMs = Number(o["stagger-ms"]);
if (!(n > 0) || !(seconds > 0) || !o.url || !o.source) {
  process.stderr.write("usage: publish.mjs --mode ffmpeg|node --n N --seconds T --url rtmp://host:port/app/prefix --source file.flv\n");
  process.exit(2);
}

const report = (obj) => process.stdout.write(`${JSON.stringify(obj)}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function ffmpegPublisher(i) {
  const stream = `s${i}`;
  return new Promise((resolve) => {
    const args = ["-nostdin", "-hide_banner", "-loglevel", "verbose", "-re", "-stream_loop", "-1", "-i", o.source, "-t", String(seconds), "-c", "copy", "-f", "flv", `${o.url}${i}`];
    const child = spawn(o.ffmpeg, args, { stdio: ["ignore", "ignore", "pipe"] });
    let tail = "";
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (s) => {
      tail = (tail + s).slice(-8192);
    });
    report({ event: "start", stream, t: Date.now(), pid: child.pid });
    child.on("close", (code, signal) => {
      const t = Date.now();
      const count = (kind) => {
        const m = new RegExp(`Output stream #0:\\d+ \\(${kind}\\): (\\d+) packets muxed`).exec(tail);
        return m ? Number(m[1]) : 0;
      };
      const out = { event: "exit", stream, t, video: count("video"), audio: count("audio"), code: code ?? signal };
      if (code !== 0) out.error = tail.trim().split("\n").slice(-3).join(" | ");
      report(out);
      resolve();
    });
  });
}

async function nodePublishers() {
  const lib = (p) => pathToFileURL(join(o.dist, p)).href;
  const { parseFlv } = await import(lib("engine/flv/flv-format.js"));
  const { describeTag } = await import(lib("engine/flv/tag-info.js"));
  const { isOnMetaData } = await import(lib("engine/flv/on-metadata.js"));
  const { RtmpPublisher } = await import(lib("engine/rtmp/rtmp-publisher.js"));
  const { tags } = parseFlv(await readFile(o.source));
  const first = tags.find((t) => t.type !== 18)?.timestamp ?? 0;
  const videoTs = tags.filter((t) => t.type === 9).map((t) => t.timestamp);
  const frameStep = videoTs.length >= 2 ? videoTs.at(-1) - videoTs.at(-2) : 40;
  const loopLen = Math.max(...tags.map((t) => t.timestamp - first)) + frameStep;
  const endMs = seconds * 1000;
  // The whole send schedule, once: [media time, tag, kind] in file order, looped to T seconds.
  const schedule = [];
  for (let loop = 0; ; loop++) {
    let added = false;
    for (const tag of tags) {
      if (loop > 0 && tag.type === 18 && isOnMetaData(tag.data)) continue;
      const at = tag.timestamp - first + loop * loopLen;
      // Like ffmpeg -t: nothing past the end is sent (not even the file's end-of-sequence tag).
      if (at >= endMs) continue;
      const info = describeTag(tag);
      const isFrame = info.kind === "frame";
      schedule.push({ at, tag: { type: tag.type, timestamp: (first + at) >>> 0, data: tag.data }, kind: isFrame ? info.track : "other" });
      added = true;
    }
    if (!added || (loop + 1) * loopLen >= endMs) break;
  }
  const streams = [];
  for (let i = 1; i <= n; i++) {
    streams.push(
      (async () => {
        await sleep((i - 1) * staggerMs);
        const stream = `s${i}`;
        const pub = await RtmpPublisher.connect(`${o.url}${i}`);
        report({ event: "start", stream, t: Date.now() });
        const started = performance.now();
        let video = 0;
        let audio = 0;
        for (const item of schedule) {
          const ahead = item.at - (performance.now() - started);
          if (ahead > 5) await sleep(ahead);
          if (!pub.sendTag(item.tag)) await pub.drain();
          if (item.kind === "video") video++;
          else if (item.kind === "audio") audio++;
        }
        await pub.close();
        report({ event: "exit", stream, t: Date.now(), video, audio, code: 0 });
      })().catch((err) => report({ event: "exit", stream: `s${i}`, t: Date.now(), video: 0, audio: 0, code: 1, error: String(err) })),
    );
  }
  await Promise.all(streams);
}

if (o.mode === "node") {
  await nodePublishers();
} else {
  const all = [];
  for (let i = 1; i <= n; i++) {
    all.push(ffmpegPublisher(i));
    if (i < n) await sleep(staggerMs);
  }
  await Promise.all(all);
}
report({ event: "done", t: Date.now() });
// Stay alive (and unreaped) until the caller has read our CPU totals.
process.stdin.resume();
process.stdin.on("end", () => process.exit(0));
process.stdin.on("close", () => process.exit(0));
