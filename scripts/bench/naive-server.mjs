/**
 * The naive recipe, as one process tree: node-media-server 4.4.3 as the
 * RTMP ingest, and on every publish one `ffmpeg -c copy` per output format
 * pulling the stream back over RTMP (FLV, HLS, MP4, AAC: four pullers per
 * stream). Run by the bench with an IPC channel:
 *
 *   node scripts/bench/naive-server.mjs --rtmp-port P --http-port H --out DIR
 *        [--ffmpeg PATH] [--rw-timeout-sec 3] [--hls-seconds 10]
 *
 * node-media-server 4.4.3 never tells a player that the publisher left (it
 * keeps the publish for a 30 s resume window and then only drops its
 * caches), so a puller's input never ends by itself. The recipe follows
 * node-media-server's own lifecycle: pullers start on "postPublish"; on
 * "donePublish", which v4 emits when that 30 s window has passed, their
 * play sessions are closed (as node-media-server's session API does), so
 * each ffmpeg reads end-of-stream, writes its trailers and exits. That
 * window is what bounds the recipe's "push end -> file complete" time.
 *
 * --rw-timeout-sec T > 0 instead makes each puller stop by itself after T s
 * without data (`-rw_timeout`): faster to finish, but in a start-up storm
 * (hundreds of ffmpeg processes starting at once on 2 cores) pullers time
 * out in the RTMP handshake and record nothing, so it is not the default.
 *
 * IPC messages: {event:"ready"}, {event:"publish",stream,t},
 * {event:"puller-exit",stream,format,t,code,stopped}.
 */
import { spawn } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import NodeMediaServer from "node-media-server";

const { values: o } = parseArgs({
  options: {
    "rtmp-port": { type: "string" },
    "http-port": { type: "string" },
    out: { type: "string" },
    ffmpeg: { type: "string", default: "ffmpeg" },
    "rw-timeout-sec": { type: "string", default: "0" },
    "hls-seconds": { type: "string", default: "10" },
  },
});
const rtmpPort = Number(o["rtmp-port"]);
const out = o.out;
const send = (msg) => process.send?.(msg);

// node-media-server v4's config keys (src/core/context.js NmsConfig). v2 keys
// such as rtmp.chunk_size / gop_cache / ping no longer exist: v4 always keeps
// a GOP cache and pings on its own. No `record` section: its built-in FLV
// recorder stays off, the pullers below do the recording.
const nms = new NodeMediaServer({
  bind: "127.0.0.1",
  rtmp: { port: rtmpPort },
  http: { port: Number(o["http-port"]) },
  webadmin: { enable: false },
  store: { path: join(out, ".nms-store") },
});

/** Output arguments of the one puller per format. */
function formatArgs(format, dir, stream) {
  const base = join(dir, stream);
  switch (format) {
    case "flv":
      return ["-map", "0", "-c", "copy", "-f", "flv", `file:${base}.flv`];
    case "mp4":
      return ["-map", "0", "-c", "copy", "-f", "mp4", `file:${base}.mp4`];
    case "aac":
      return ["-map", "0:a:0", "-c", "copy", "-f", "adts", `file:${base}.aac`];
    case "hls":
      return ["-map", "0", "-c", "copy", "-f", "hls", "-hls_time", o["hls-seconds"], "-hls_list_size", "0", "-hls_segment_filename", join(dir, `${stream}_%05d.ts`), `file:${base}.m3u8`];
    default:
      throw new Error(format);
  }
}

/** stream -> its running pullers */
const pullers = new Map();
const rwTimeoutSec = Number(o["rw-timeout-sec"]);

nms.on("postPublish", (session) => {
  const path = session.streamPath; // "/live/s3"
  const stream = path.split("/").pop();
  const dir = join(out, ...path.split("/").filter(Boolean).slice(0, -1));
  mkdirSync(dir, { recursive: true });
  send({ event: "publish", stream, t: Date.now() });
  const mine = new Set();
  pullers.set(stream, mine);
  for (const format of ["flv", "hls", "mp4", "aac"]) {
    const args = [
      "-nostdin",
      "-hide_banner",
      "-loglevel",
      "error",
      ...(rwTimeoutSec > 0 ? ["-rw_timeout", String(rwTimeoutSec * 1_000_000)] : []),
      "-i",
      `rtmp://127.0.0.1:${rtmpPort}${path}`,
      ...formatArgs(format, dir, stream),
    ];
    const child = spawn(o.ffmpeg, args, { stdio: ["ignore", "ignore", "pipe"] });
    let tail = "";
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (s) => {
      tail = (tail + s).slice(-2048);
    });
    mine.add(child);
    child.on("close", (code) => {
      mine.delete(child);
      send({ event: "puller-exit", stream, format, t: Date.now(), code, stopped: child.stoppedByUs === true, stderr: tail.trim().slice(-300) });
    });
  }
});

/** stream -> its pullers' RTMP play sessions in node-media-server */
const players = new Map();
nms.on("postPlay", (session) => {
  const stream = session.streamPath.split("/").pop();
  if (!players.has(stream)) players.set(stream, new Set());
  players.get(stream).add(session);
});
nms.on("donePlay", (session) => players.get(session.streamPath.split("/").pop())?.delete(session));

nms.on("donePublish", (session) => {
  const stream = session.streamPath.split("/").pop();
  // What node-media-server's own "DELETE /api/v1/sessions/:id" does: end the player's
  // connection. The puller reads end-of-stream and closes its output normally (a signal
  // would not do: ffmpeg blocked on a silent input exits on a second SIGINT without trailers).
  for (const player of players.get(stream) ?? []) {
    for (const child of pullers.get(stream) ?? []) child.stoppedByUs = true;
    player.close();
  }
  players.delete(stream);
  pullers.delete(stream);
});

await nms.run();
send({ event: "ready" });
const stop = () => {
  void nms.stop().finally(() => process.exit(0));
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
process.on("disconnect", stop);
