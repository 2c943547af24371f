/**
 * Frames in the recordings, counted by ffprobe (an independent reader):
 * `ffprobe -count_packets` demuxes every packet of a file (for a playlist,
 * of every segment it lists) and reports how many each stream holds.
 */
import { execFile } from "node:child_process";
import { readFile, rm, writeFile } from "node:fs/promises";
import { cpus } from "node:os";

function run(cmd, args, timeoutMs = 120_000) {
  return new Promise((resolve) => {
    execFile(cmd, args, { maxBuffer: 16 * 1024 * 1024, timeout: timeoutMs }, (err, stdout, stderr) => resolve({ err, stdout, stderr }));
  });
}

/**
 * A playlist without #EXT-X-ENDLIST (nginx-rtmp never writes one) is a live
 * playlist to ffmpeg: it would start near the live edge and wait for more.
 * Count such a playlist through a VOD copy of it, written alongside it.
 */
async function vodPlaylist(path) {
  const text = await readFile(path, "utf8");
  if (text.includes("#EXT-X-ENDLIST")) return { path, cleanup: async () => {} };
  const copy = path.replace(/\.m3u8$/, ".bench-vod.m3u8");
  const body = text.replace(/#EXT-X-PLAYLIST-TYPE:\w+\n?/, "").replace("#EXTM3U\n", "#EXTM3U\n#EXT-X-PLAYLIST-TYPE:VOD\n");
  await writeFile(copy, `${body.trimEnd()}\n#EXT-X-ENDLIST\n`);
  return { path: copy, cleanup: () => rm(copy, { force: true }) };
}

/** { video, audio, error? } packets in one file (playlists: across their segments). */
export async function countPackets(ffprobe, path) {
  const target = path.endsWith(".m3u8") ? await vodPlaylist(path) : { path, cleanup: async () => {} };
  try {
    const { err, stdout, stderr } = await run(ffprobe, ["-v", "error", "-count_packets", "-show_entries", "stream=codec_type,nb_read_packets", "-of", "json", target.path]);
    if (err) return { video: 0, audio: 0, error: `${err.message.split("\n")[0]} ${stderr.trim().slice(-200)}` };
    const streams = JSON.parse(stdout).streams ?? [];
    const sum = (type) => streams.filter((s) => s.codec_type === type).reduce((a, s) => a + Number(s.nb_read_packets ?? 0), 0);
    return { video: sum("video"), audio: sum("audio") };
  } finally {
    await target.cleanup();
  }
}

/** Runs `fn` over `items` with at most `limit` at a time. */
export async function mapLimit(items, limit, fn) {
  const results = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/**
 * Checks every output of every stream against what its publisher sent.
 * `outputs`: stream -> { format -> [file paths] }; `sent`: stream -> { video, audio }.
 * A format with video compares video frames and audio frames; AAC compares audio.
 * Returns totals and one row per (stream, format).
 */
export async function verifyOutputs(ffprobe, outputs, sent, formats) {
  const jobs = [];
  for (const [stream, byFormat] of Object.entries(outputs)) {
    for (const format of formats) for (const path of byFormat[format] ?? []) jobs.push({ stream, format, path });
  }
  const counts = await mapLimit(jobs, Math.max(1, cpus().length), async (j) => ({ ...j, ...(await countPackets(ffprobe, j.path)) }));
  const rows = [];
  const totals = { videoSent: 0, audioSent: 0, lostVideo: 0, lostAudio: 0, extraVideo: 0, extraAudio: 0, missingFiles: 0, unreadable: 0, outputs: 0 };
  for (const [stream, s] of Object.entries(sent)) {
    for (const format of formats) {
      const mine = counts.filter((c) => c.stream === stream && c.format === format);
      const video = format === "aac" ? 0 : mine.reduce((a, c) => a + c.video, 0);
      const audio = mine.reduce((a, c) => a + c.audio, 0);
      const wantVideo = format === "aac" ? 0 : s.video;
      const wantAudio = s.audio;
      const errors = mine.filter((c) => c.error).map((c) => c.error);
      if (mine.length === 0) totals.missingFiles++;
      totals.unreadable += errors.length;
      totals.outputs++;
      totals.videoSent += wantVideo;
      totals.audioSent += wantAudio;
      totals.lostVideo += Math.max(0, wantVideo - video);
      totals.lostAudio += Math.max(0, wantAudio - audio);
      totals.extraVideo += Math.max(0, video - wantVideo);
      totals.extraAudio += Math.max(0, audio - wantAudio);
      rows.push({ stream, format, files: mine.length, video, audio, wantVideo, wantAudio, ...(errors.length ? { errors } : {}) });
    }
  }
  totals.lost = totals.lostVideo + totals.lostAudio;
  return { totals, rows };
}
