/**
 * End to end: a real ffmpeg (or our replay publisher) pushes fixture streams
 * over RTMP into the service; outputs are read back by ffprobe/ffmpeg and
 * m3u8-parser, never only by our own code.
 */
import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FIXTURES } from "../fixtures/fixtures.js";
import {
  audioCopyHashes,
  audioPacketHashes,
  decodesCleanly,
  ffmpegPath,
  hlsPlaylist,
  packetTimes,
  probe,
  runProcess,
  videoFrameHashes,
} from "../scripts/test-support/media-check.js";
import { replayFlv } from "./cli/replay.js";
import { ffmpegPush, type Harness, listFiles, startService } from "./test-support/harness.js";

const INTERVAL = 6;
const GOP = 2;
const FRAME = 0.04;
const every = (n: number) => ({ Enable: 1 as const, RecordInterval: n });
const allFormats = (n: number) => ({ FlvParam: every(n), HlsParam: every(n), Mp4Param: every(n), AacParam: every(n) });

/** Duration of a file's video track as players count it: last pts - first pts + one frame. */
async function videoDuration(file: string): Promise<number> {
  const pts = (await packetTimes(file, "v")).map((p) => p.pts);
  return Math.max(...pts) - Math.min(...pts) + FRAME;
}

/** Duration of all of a file's content: from the earliest packet to the end of the last one, any track. */
async function contentDuration(file: string): Promise<number> {
  const packets = [...(await packetTimes(file, "v")), ...(await packetTimes(file, "a"))];
  const start = Math.min(...packets.map((p) => p.pts));
  const end = Math.max(...packets.map((p) => p.pts + (Number.isNaN(p.duration) ? 0 : p.duration)));
  return end - start;
}

/** Decoded audio, frame by frame (only comparable for unsegmented outputs: see shared/notes/fidelity-checks.md). */
async function decodedAudioHashes(file: string): Promise<string[]> {
  const r = await runProcess(await ffmpegPath(), ["-nostdin", "-v", "error", "-i", file, "-map", "0:a:0", "-f", "framemd5", "-"]);
  return r.stdout.toString().split("\n").filter((l) => l && !l.startsWith("#")).map((l) => l.split(",").pop()!.trim());
}

/** AAC files: 1024 samples per packet at 44.1 kHz (the fixture's rate); ffprobe only estimates ADTS durations. */
async function aacDuration(file: string): Promise<number> {
  return ((await audioPacketHashes(file)).length * 1024) / 44100;
}

describe("a 20 s H.264 + AAC push, rolled every 6 s, recorded in real time", () => {
  const source = FIXTURES["av-h264-aac-20s"];
  let h: Harness;
  let dir: string;
  /** name -> size when a watcher first saw it under its final name, and whether the push was still running. */
  const firstSeen = new Map<string, { size: number; duringPush: boolean }>();

  beforeAll(async () => {
    h = await startService(allFormats(INTERVAL));
    dir = h.streamDir("live", "cam1");
    let pushing = true;
    const watch = async () => {
      while (pushing) {
        const names = await readdir(dir, { recursive: true }).catch(() => [] as string[]);
        for (const name of names) {
          if (name.startsWith(".recording") || firstSeen.has(name) || !/\.(flv|mp4|aac|m3u8|ts)$/.test(name)) continue;
          firstSeen.set(name, { size: (await stat(join(dir, name))).size, duringPush: true });
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    const watcher = watch();
    await ffmpegPush(source.path, h.url("live", "cam1"), { realtime: true });
    pushing = false;
    await watcher;
    await h.closed("cam1");
  }, 90_000);

  afterAll(() => h?.stop());

  it("writes files named by the default VodFileName under recordings/<domain>/<app>/<stream>/", async () => {
    const names = (await readdir(dir)).filter((n) => !n.startsWith("."));
    const pattern = /^cam1_\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2}_\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2}\.(flv|mp4|aac|m3u8)$/;
    for (const n of names.filter((n) => /\.(flv|mp4|aac|m3u8)$/.test(n))) expect(n).toMatch(pattern);
    expect((await readdir(join(dir, ".recording"))).length).toBe(0);
  });

  it("yields the expected number of files per format, each playable", async () => {
    for (const ext of ["flv", "mp4", "aac"]) {
      const files = await listFiles(dir, ext);
      expect(files, ext).toHaveLength(4); // 6 + 6 + 6 + 2 s
      for (const f of files) {
        expect((await probe(f)).streams.length, f).toBeGreaterThan(0);
        expect(await decodesCleanly(f), f).toBe("");
      }
    }
    expect(await listFiles(dir, "m3u8")).toHaveLength(1);
  });

  it("rolls at the interval, cut on keyframes: durations in [interval, interval + GOP] except the last; the sum equals the input", async () => {
    for (const ext of ["flv", "mp4"]) {
      const durations = await Promise.all((await listFiles(dir, ext)).map(videoDuration));
      for (const d of durations.slice(0, -1)) {
        expect(d, ext).toBeGreaterThanOrEqual(INTERVAL - 0.001);
        expect(d, ext).toBeLessThanOrEqual(INTERVAL + GOP + 0.001);
      }
      const sum = durations.reduce((a, b) => a + b, 0);
      expect(Math.abs(sum - source.videoFrames * FRAME), ext).toBeLessThanOrEqual(FRAME);
    }
    const aac = await Promise.all((await listFiles(dir, "aac")).map(aacDuration));
    for (const d of aac.slice(0, -1)) {
      // Audio frames (23 ms) do not line up with the video keyframes the files are cut on.
      expect(d).toBeGreaterThanOrEqual(INTERVAL - 0.1);
      expect(d).toBeLessThanOrEqual(INTERVAL + GOP + 0.1);
    }
    expect(Math.abs(aac.reduce((a, b) => a + b, 0) - (source.audioPackets * 1024) / 44100)).toBeLessThan(0.001);
  });

  it("keeps every video frame and audio packet, in order, in every format (no re-encode, nothing lost or duplicated)", async () => {
    const videoIn = await videoFrameHashes(source.path);
    const audioIn = await audioPacketHashes(source.path);
    expect(videoIn).toHaveLength(source.videoFrames);
    const [playlist] = await listFiles(dir, "m3u8");
    expect(await videoFrameHashes(await listFiles(dir, "flv"))).toEqual(videoIn);
    expect(await videoFrameHashes(await listFiles(dir, "mp4"))).toEqual(videoIn);
    expect(await videoFrameHashes(playlist!)).toEqual(videoIn);
    expect(await audioPacketHashes(await listFiles(dir, "flv"))).toEqual(audioIn);
    expect(await audioPacketHashes(await listFiles(dir, "mp4"))).toEqual(audioIn);
    expect(await audioPacketHashes(await listFiles(dir, "aac"))).toEqual(audioIn);
    expect(await audioPacketHashes(playlist!)).toEqual(audioIn);
  });

  it("writes a VOD HLS playlist that m3u8-parser reads, with EXTINF matching each .ts file", async () => {
    const [path] = await listFiles(dir, "m3u8");
    const pl = await hlsPlaylist(path!);
    expect(pl.endList).toBe(true);
    expect(pl.playlistType).toBe("VOD");
    expect(pl.segments.length).toBeGreaterThanOrEqual(5);
    let sum = 0;
    for (const seg of pl.segments) {
      const actual = await videoDuration(join(dir, seg.uri));
      expect(Math.abs(seg.duration - actual), seg.uri).toBeLessThanOrEqual(FRAME + 0.001);
      expect(Math.round(seg.duration)).toBeLessThanOrEqual(pl.targetDuration ?? 0);
      sum += seg.duration;
    }
    expect(Math.abs(sum - source.videoFrames * FRAME)).toBeLessThanOrEqual(FRAME);
  });

  it("never shows a file under its final name before it is complete, and shows segments as they close", async () => {
    expect(firstSeen.size).toBeGreaterThan(0);
    for (const [name, seen] of firstSeen) {
      expect((await stat(join(dir, name))).size, name).toBe(seen.size);
    }
    // Rolled files appeared while the push was still going, not all at its end.
    expect([...firstSeen.keys()].filter((n) => n.endsWith(".flv")).length).toBeGreaterThanOrEqual(3);
  });

  it("reports each file once with its format, times and size", () => {
    const byFormat = (f: string) => h.files.filter((x) => x.format === f);
    expect(byFormat("flv")).toHaveLength(4);
    expect(byFormat("mp4")).toHaveLength(4);
    expect(byFormat("aac")).toHaveLength(4);
    expect(byFormat("hls")).toHaveLength(1);
    for (const f of h.files) {
      expect(f.endMs).toBeGreaterThan(f.startMs);
      expect(f.sizeBytes).toBeGreaterThan(0);
      expect(f.domain).toBe("127.0.0.1");
    }
  });

  it("writes FLV duration metadata matching the content", async () => {
    for (const f of await listFiles(dir, "flv")) {
      // ffprobe's FLV demuxer takes format.duration from onMetaData when it is there. Our
      // duration counts decode times; ffprobe's packets count presentation times, which
      // the B-frame delay (up to 4 frames here) shifts.
      const fromMeta = (await probe(f)).format.duration;
      expect(Math.abs(fromMeta - (await contentDuration(f))), f).toBeLessThanOrEqual(4 * FRAME + 0.001);
    }
  });
});

describe("other stream shapes", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startService(allFormats(INTERVAL));
  });
  afterAll(() => h?.stop());

  it("a 3 s push gives one playable file per format", async () => {
    await ffmpegPush(FIXTURES["av-h264-aac-3s"].path, h.url("live", "short"));
    await h.closed("short");
    const dir = h.streamDir("live", "short");
    for (const ext of ["flv", "mp4", "aac", "m3u8"]) {
      const files = await listFiles(dir, ext);
      expect(files, ext).toHaveLength(1);
      expect(await decodesCleanly(files[0]!), ext).toBe("");
    }
    expect(await videoFrameHashes(await listFiles(dir, "mp4"))).toEqual(await videoFrameHashes(FIXTURES["av-h264-aac-3s"].path));
    // One unsegmented AAC file: its decoded audio equals the input's (decoder state never restarts).
    expect(await decodedAudioHashes((await listFiles(dir, "aac"))[0]!)).toEqual(await decodedAudioHashes(FIXTURES["av-h264-aac-3s"].path));
  });

  it("an audio-only AAC push records all four formats, rolled on time", async () => {
    const src = FIXTURES["audio-aac-10s"];
    await ffmpegPush(src.path, h.url("live", "radio"));
    await h.closed("radio");
    const dir = h.streamDir("live", "radio");
    expect(await listFiles(dir, "aac")).toHaveLength(2);
    const audioIn = await audioPacketHashes(src.path);
    for (const ext of ["flv", "mp4", "aac", "m3u8"]) {
      const files = await listFiles(dir, ext);
      expect(files.length, ext).toBeGreaterThan(0);
      expect(await audioPacketHashes(files), ext).toEqual(audioIn);
    }
  });

  it("a video-only push records FLV/HLS/MP4 and skips AAC with a typed reason", async () => {
    const src = FIXTURES["video-h264-10s"];
    await ffmpegPush(src.path, h.url("live", "silent"));
    const [closed] = await h.closed("silent");
    expect(closed!.skipped.map((x) => `${x.format}:${x.code}`)).toEqual(["aac:NO_AUDIO_TRACK"]);
    const dir = h.streamDir("live", "silent");
    expect(await listFiles(dir, "aac")).toHaveLength(0);
    const videoIn = await videoFrameHashes(src.path);
    expect(await videoFrameHashes(await listFiles(dir, "flv"))).toEqual(videoIn);
    expect(await videoFrameHashes(await listFiles(dir, "mp4"))).toEqual(videoIn);
    expect(await videoFrameHashes((await listFiles(dir, "m3u8"))[0]!)).toEqual(videoIn);
  });

  it("H.264 + MP3 records FLV/HLS/MP4 and skips AAC (the matrix: AAC files hold AAC only)", async () => {
    const src = FIXTURES["av-h264-mp3-10s"];
    // Our publisher sends the file's MP3 packets exactly (ffmpeg's FLV muxer repacks MP3 when it re-streams).
    await replayFlv(src.path, h.url("live", "mp3"));
    const [closed] = await h.closed("mp3");
    expect(closed!.skipped.map((x) => `${x.format}:${x.code}`)).toEqual(["aac:CODEC_NOT_SUPPORTED_BY_FORMAT"]);
    const dir = h.streamDir("live", "mp3");
    const audioIn = await audioCopyHashes(src.path);
    const videoIn = await videoFrameHashes(src.path);
    for (const ext of ["flv", "mp4"]) {
      const files = await listFiles(dir, ext);
      expect(await videoFrameHashes(files), ext).toEqual(videoIn);
      expect(await audioCopyHashes(files), ext).toEqual(audioIn);
    }
    // MP3 in MPEG-TS: ffmpeg's TS demuxer hands back the first frame of every PES packet
    // differently framed, so packet hashes are not comparable there; count and decode instead.
    const playlist = (await listFiles(dir, "m3u8"))[0]!;
    expect(await audioCopyHashes(playlist)).toHaveLength(audioIn.length);
    expect(await videoFrameHashes(playlist)).toEqual(videoIn);
    expect(await decodesCleanly(playlist)).toBe("");
  });
});
