/**
 * The codec matrix end to end: each codec pair's fixture (Enhanced RTMP and
 * legacy id 12 FLV, fixtures/codecs/) is pushed by `recorder replay` into the
 * real service; every format the matrix allows is read back by independent
 * readers and compared with the MP4 the fixture was made from: codec, frame
 * count, timestamps, decoded-frame hashes (video) and packet hashes (audio).
 * Refused pairs assert their typed reason. Files roll every 2 s, on H.265 /
 * AV1 / H.264 keyframes (one per second in the fixtures).
 *
 * FLV outputs: the 2023 ffprobe of @ffprobe-installer reads their video codec;
 * no ffmpeg here decodes Enhanced FLV (and that ffprobe misreads HEVC CodedFrames
 * that carry a composition time), so the test reads FLV tags itself and decodes
 * the video through a raw Annex B (H.264/H.265) or IVF (AV1) stream with ffmpeg.
 */
import { createHash } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { effectiveMatrix } from "../engine/mux/codec-matrix.js";
import { probeFfmpegCapabilities } from "../engine/ffmpeg/ffmpeg-capabilities.js";
import { CODEC_FIXTURES, type CodecFixtureInfo, type CodecFixtureName } from "../fixtures/fixtures.js";
import {
  audioPacketHashes,
  decodesCleanly,
  ffprobePath,
  hlsPlaylist,
  packetTimes,
  probe,
  runProcess,
  videoFrameHashes,
} from "../scripts/test-support/media-check.js";
import { replayFlv } from "./cli/replay.js";
import { type Harness, listFiles, startService } from "./test-support/harness.js";

const INTERVAL = 2;
const every = (n: number) => ({ Enable: 1 as const, RecordInterval: n });
const allFormats = (n: number) => ({ FlvParam: every(n), HlsParam: every(n), Mp4Param: every(n), AacParam: every(n) });
const FFMPEG_CODEC = { h264: "h264", h265: "hevc", av1: "av1", h266: "vvc", aac: "aac", mp3: "mp3", opus: "opus" } as const;

// --- a small FLV reader of the test's own (legacy + Enhanced RTMP headers) ------------------

interface Frame {
  track: "video" | "audio";
  dts: number;
  pts: number;
  key: boolean;
  payload: Buffer;
}

interface FlvContent {
  frames: Frame[];
  /** The video sequence header's record (avcC / hvcC / av1C) and the header style it came in. */
  videoConfig?: Buffer;
  videoHeader?: "enhanced" | "legacy";
  videoFourCc?: string;
}

function readFlv(buf: Buffer): FlvContent {
  const out: FlvContent = { frames: [] };
  let pos = buf.readUInt32BE(5) + 4;
  while (pos + 11 <= buf.length) {
    const type = buf[pos]! & 0x1f;
    const size = buf.readUIntBE(pos + 1, 3);
    const ts = (buf.readUIntBE(pos + 4, 3) | (buf[pos + 7]! << 24)) >>> 0;
    const d = buf.subarray(pos + 11, pos + 11 + size);
    pos += 11 + size + 4;
    if (type === 9 && d.length > 0) {
      if (d[0]! & 0x80) {
        const packetType = d[0]! & 0x0f;
        const fourCc = d.toString("latin1", 1, 5);
        const key = ((d[0]! >> 4) & 0x07) === 1;
        if (packetType === 0) Object.assign(out, { videoConfig: d.subarray(5), videoHeader: "enhanced", videoFourCc: fourCc });
        else if (packetType === 1 && ["avc1", "hvc1", "vvc1"].includes(fourCc)) out.frames.push({ track: "video", dts: ts, pts: ts + d.readIntBE(5, 3), key, payload: d.subarray(8) });
        else if (packetType === 1 || packetType === 3) out.frames.push({ track: "video", dts: ts, pts: ts, key, payload: d.subarray(5) });
      } else {
        const key = d[0]! >> 4 === 1;
        if (d[1] === 0) Object.assign(out, { videoConfig: d.subarray(5), videoHeader: "legacy", videoFourCc: `id${d[0]! & 0x0f}` });
        else if (d[1] === 1) out.frames.push({ track: "video", dts: ts, pts: ts + d.readIntBE(2, 3), key, payload: d.subarray(5) });
      }
    } else if (type === 8 && d.length > 0) {
      const format = d[0]! >> 4;
      if (format === 9) {
        if ((d[0]! & 0x0f) === 1) out.frames.push({ track: "audio", dts: ts, pts: ts, key: true, payload: d.subarray(5) });
      } else if (format === 10) {
        if (d[1] === 1) out.frames.push({ track: "audio", dts: ts, pts: ts, key: true, payload: d.subarray(2) });
      } else out.frames.push({ track: "audio", dts: ts, pts: ts, key: true, payload: d.subarray(1) });
    }
  }
  return out;
}

const md5 = (b: Buffer) => createHash("md5").update(b).digest("hex");

/** MD5 of each packet's data of a file's first video / audio stream, in file order (ffprobe -show_data_hash). */
async function packetDataHashes(input: string | string[], stream: "v" | "a"): Promise<string[]> {
  const all: string[] = [];
  for (const file of typeof input === "string" ? [input] : input) {
    const r = await runProcess(await ffprobePath(), ["-v", "error", "-select_streams", `${stream}:0`, "-show_entries", "packet=data_hash", "-show_data_hash", "MD5", "-of", "json", file]);
    const json = JSON.parse(r.stdout.toString("utf8")) as { packets?: { data_hash?: string }[] };
    all.push(...(json.packets ?? []).map((p) => (p.data_hash ?? "").replace(/^MD5:/, "")));
  }
  return all;
}

/** Parameter sets of an avcC / hvcC record, as Annex B. */
function annexBParameterSets(config: Buffer, codec: "h264" | "h265"): Buffer[] {
  const nalus: Buffer[] = [];
  if (codec === "h264") {
    let p = 5;
    for (const mask of [0x1f, 0xff]) {
      const n = config[p++]! & mask;
      for (let i = 0; i < n; i++) {
        const len = config.readUInt16BE(p);
        nalus.push(config.subarray(p + 2, p + 2 + len));
        p += 2 + len;
      }
    }
  } else {
    let p = 23;
    for (let a = 0; a < config[22]!; a++) {
      const n = config.readUInt16BE(p + 1);
      p += 3;
      for (let i = 0; i < n; i++) {
        const len = config.readUInt16BE(p);
        nalus.push(config.subarray(p + 2, p + 2 + len));
        p += 2 + len;
      }
    }
  }
  return nalus.flatMap((n) => [Buffer.from([0, 0, 0, 1]), n]);
}

/** Decoded-frame hashes of the video of a series of FLV files: re-framed by the test as Annex B or IVF, decoded by ffmpeg. */
async function flvVideoFrameHashes(files: string[], codec: "h264" | "h265" | "av1"): Promise<string[]> {
  const parts: Buffer[] = [];
  let frames = 0;
  for (const file of files) {
    const flv = readFlv(await readFile(file));
    if (codec !== "av1") parts.push(...annexBParameterSets(flv.videoConfig!, codec));
    for (const f of flv.frames.filter((x) => x.track === "video")) {
      if (codec === "av1") {
        const head = Buffer.alloc(12);
        head.writeUInt32LE(f.payload.length, 0);
        head.writeBigUInt64LE(BigInt(frames), 4);
        parts.push(head, f.payload);
      } else {
        for (let p = 0; p < f.payload.length; ) {
          const len = f.payload.readUInt32BE(p);
          parts.push(Buffer.from([0, 0, 0, 1]), f.payload.subarray(p + 4, p + 4 + len));
          p += 4 + len;
        }
      }
      frames++;
    }
  }
  let data = Buffer.concat(parts);
  if (codec === "av1") {
    const ivf = Buffer.alloc(32);
    ivf.write("DKIF", 0, "latin1");
    ivf.writeUInt16LE(0, 4);
    ivf.writeUInt16LE(32, 6);
    ivf.write("AV01", 8, "latin1");
    ivf.writeUInt16LE(320, 12);
    ivf.writeUInt16LE(240, 14);
    ivf.writeUInt32LE(25, 16);
    ivf.writeUInt32LE(1, 20);
    ivf.writeUInt32LE(frames, 24);
    data = Buffer.concat([ivf, data]);
  }
  const path = join(tmpdir(), `codecs-${process.pid}-${Date.now()}.${codec === "av1" ? "ivf" : codec === "h264" ? "h264" : "hevc"}`);
  await writeFile(path, data);
  return videoFrameHashes(path);
}

/** The audio packet hashes the checkers compare for a codec: AAC payloads via ADTS, MP3/Opus packet data as demuxed. */
const audioHashes = (codec: CodecFixtureInfo["audio"], input: string | string[]) => (codec === "aac" ? audioPacketHashes(input) : packetDataHashes(input, "a"));

/** ffprobe of @ffprobe-installer (2023 build: reads Enhanced FLV video). */
async function ffprobe2023VideoCodec(file: string): Promise<string | undefined> {
  const bin = (await import("@ffprobe-installer/ffprobe")).default.path;
  const r = await runProcess(bin, ["-v", "quiet", "-select_streams", "v:0", "-show_entries", "stream=codec_name", "-of", "csv=p=0", file]);
  return r.stdout.toString().trim().split("\n")[0];
}

/** Splits the source's frames of one track into the runs each output file holds, by their counts. */
function slices<T>(all: T[], counts: number[]): T[][] {
  const out: T[][] = [];
  let i = 0;
  for (const n of counts) {
    out.push(all.slice(i, i + n));
    i += n;
  }
  return out;
}

/** Expects recorded (pts, dts) in ms to equal the source's up to one constant offset per file. */
function expectSameTimes(label: string, recorded: { pts: number; dts: number }[], source: Frame[], toleranceMs = 0): void {
  expect(recorded.length, label).toBe(source.length);
  const offset = source[0]!.dts - recorded[0]!.dts;
  const bad = recorded.filter((r, i) => Math.abs(r.dts + offset - source[i]!.dts) > toleranceMs || Math.abs(r.pts + offset - source[i]!.pts) > toleranceMs);
  expect(bad, `${label}: ${bad.length} packets off`).toEqual([]);
}

const ms = (p: { pts: number; dts: number }) => ({ pts: Math.round(p.pts * 1000), dts: Math.round(p.dts * 1000) });

interface Expectation {
  formats: string[];
  skipped: string[];
}

/** On this machine (Debian's ffmpeg 5.1 on PATH). */
const EXPECTED: Record<CodecFixtureName, Expectation> = {
  "hevc-aac": { formats: ["flv", "hls", "mp4", "aac"], skipped: [] },
  "hevc12-mp3": { formats: ["flv", "hls", "mp4"], skipped: ["aac:CODEC_NOT_SUPPORTED_BY_FORMAT"] },
  "hevc-opus": { formats: ["flv", "hls", "mp4"], skipped: ["aac:CODEC_NOT_SUPPORTED_BY_FORMAT"] },
  "av1-opus": { formats: ["flv", "mp4"], skipped: ["aac:CODEC_NOT_SUPPORTED_BY_FORMAT", "hls:CODEC_NOT_SUPPORTED_BY_FORMAT"] },
  "av1-mp3": { formats: ["flv", "mp4"], skipped: ["aac:CODEC_NOT_SUPPORTED_BY_FORMAT", "hls:CODEC_NOT_SUPPORTED_BY_FORMAT"] },
  "avc1-mp4a": { formats: ["flv", "hls", "mp4", "aac"], skipped: [] },
  "vvc1-aac": { formats: ["flv", "aac"], skipped: ["hls:CODEC_NOT_SUPPORTED_BY_FFMPEG", "mp4:CODEC_NOT_SUPPORTED_BY_FFMPEG"] },
};

/** Pushes a fixture and checks every format it recorded against the fixture's sources. */
async function recordAndCheck(h: Harness, name: CodecFixtureName, stream: string, expected: Expectation, videoSourceHashes?: string[]): Promise<void> {
  const fx = CODEC_FIXTURES[name];
  await replayFlv(fx.path, h.url("codecs", stream));
  const [closed] = await h.closed(stream);
  expect(closed!.tracks).toEqual({ video: fx.video, audio: fx.audio });
  expect([...closed!.formats].sort()).toEqual([...expected.formats].sort());
  expect(closed!.skipped.map((s) => `${s.format}:${s.code}`).sort()).toEqual(expected.skipped);
  for (const s of closed!.skipped) expect(s.reason.length).toBeGreaterThan(10);
  expect(closed!.errors).toBe(0);

  const dir = h.streamDir("codecs", stream);
  const source = readFlv(await readFile(fx.path));
  const srcVideo = source.frames.filter((f) => f.track === "video");
  const srcAudio = source.frames.filter((f) => f.track === "audio");
  const decodable = fx.video !== "h266";
  const videoHashes = videoSourceHashes ?? (decodable ? await videoFrameHashes(fx.videoSource!) : []);
  const audioSourceHashes = await audioHashes(fx.audio, fx.audioSource);
  expect(audioSourceHashes).toHaveLength(fx.audioPackets);

  // FLV: every frame's payload and timestamps, cut on keyframes every 2 s; decodes to the source's frames.
  const flvFiles = await listFiles(dir, "flv");
  expect(flvFiles).toHaveLength(3);
  const flvs = await Promise.all(flvFiles.map(async (f) => readFlv(await readFile(f))));
  const videoRuns = flvs.map((f) => f.frames.filter((x) => x.track === "video"));
  expect(videoRuns.map((r) => r.length)).toEqual([50, 50, 50]);
  for (const [k, run] of videoRuns.entries()) {
    expect(run[0]!.key, `FLV ${k} starts on a keyframe`).toBe(true);
    expect(run[0]!.dts, `FLV ${k} starts at 0`).toBe(0);
  }
  const recVideo = videoRuns.flat();
  // Payloads: as pushed, and as the MP4 the fixture was made from holds them (ffmpeg's framemd5 of its packets).
  expect(recVideo.map((f) => md5(f.payload))).toEqual(srcVideo.map((f) => md5(f.payload)));
  if (decodable) expect(recVideo.map((f) => md5(f.payload))).toEqual(await packetDataHashes(fx.videoSource!, "v"));
  for (const [k, run] of videoRuns.entries()) expectSameTimes(`FLV ${k} video`, run, slices(srcVideo, [50, 50, 50])[k]!);
  const recAudio = flvs.flatMap((f) => f.frames.filter((x) => x.track === "audio"));
  expect(recAudio.map((f) => md5(f.payload))).toEqual(audioSourceHashes);
  for (const flv of flvs) expect(flv.videoHeader).toBe("enhanced"); // default flvHevcMode: every H.265 file in the Enhanced RTMP form
  if (fx.video === "h265" || fx.video === "av1") {
    expect(await ffprobe2023VideoCodec(flvFiles[0]!)).toBe(FFMPEG_CODEC[fx.video]);
    expect(await flvVideoFrameHashes(flvFiles, fx.video)).toEqual(videoHashes);
  }

  // MP4: same cut points, codecs, decoded frames, audio packets, timestamps.
  const mp4Files = await listFiles(dir, "mp4");
  if (expected.formats.includes("mp4")) {
    expect(mp4Files).toHaveLength(3);
    const counts: number[] = [];
    const audioCounts: number[] = [];
    for (const [k, file] of mp4Files.entries()) {
      const p = await probe(file);
      expect(p.streams.map((s) => s.codec_name)).toEqual([FFMPEG_CODEC[fx.video], FFMPEG_CODEC[fx.audio]]);
      const v = await packetTimes(file, "v");
      expect(v[0]!.keyframe, `MP4 ${k} starts on a keyframe`).toBe(true);
      counts.push(v.length);
      expectSameTimes(`MP4 ${k} video`, v.map(ms), slices(srcVideo, [50, 50, 50])[k]!);
      audioCounts.push((await packetTimes(file, "a")).length);
      expect(await decodesCleanly(file), file).toBe("");
    }
    expect(counts).toEqual([50, 50, 50]);
    // Audio: every packet once, at its pushed time. ffmpeg's MP4 muxer re-times audio in 1/sample-rate
    // units from the ms input (identically when fed FLV: measured on H.264+MP3), so within 2 ms.
    expect(audioCounts.reduce((a, b) => a + b, 0)).toBe(fx.audioPackets);
    const audioRuns = slices(srcAudio, audioCounts);
    for (const [k, file] of mp4Files.entries()) {
      const a = (await packetTimes(file, "a")).map(ms);
      const v0 = (await packetTimes(file, "v"))[0]!;
      // One offset for both tracks of a file: the video's.
      const offset = slices(srcVideo, [50, 50, 50])[k]![0]!.dts - Math.round(v0.dts * 1000);
      const off = a.filter((p, i) => Math.abs(p.pts + offset - audioRuns[k]![i]!.pts) > 2);
      expect(off, `MP4 ${k} audio timestamps`).toEqual([]);
    }
    expect(await videoFrameHashes(mp4Files)).toEqual(videoHashes);
    expect(await audioHashes(fx.audio, mp4Files)).toEqual(audioSourceHashes);
  } else expect(mp4Files).toHaveLength(0);

  // HLS: one playlist; the segments decode to the source's frames, timestamps continuous.
  const playlists = await listFiles(dir, "m3u8");
  if (expected.formats.includes("hls")) {
    expect(playlists).toHaveLength(1);
    const m3u8 = playlists[0]!;
    const pl = await hlsPlaylist(m3u8);
    expect(pl.endList).toBe(true);
    expect(pl.segments.length).toBeGreaterThanOrEqual(2);
    const firstSegment = join(dir, pl.segments[0]!.uri);
    expect((await probe(firstSegment)).streams.map((s) => s.codec_name)).toEqual([FFMPEG_CODEC[fx.video], FFMPEG_CODEC[fx.audio]]);
    expect(await videoFrameHashes(m3u8)).toEqual(videoHashes);
    expect(await audioHashes(fx.audio, m3u8)).toEqual(audioSourceHashes);
    expectSameTimes("HLS video", (await packetTimes(m3u8, "v")).map(ms), srcVideo);
    expectSameTimes("HLS audio", (await packetTimes(m3u8, "a")).map(ms), srcAudio, 1);
    expect(await decodesCleanly(m3u8), m3u8).toBe("");
  } else expect(playlists).toHaveLength(0);

  // AAC: audio-only, AAC only.
  const aacFiles = await listFiles(dir, "aac");
  if (expected.formats.includes("aac")) {
    expect(aacFiles.length).toBeGreaterThanOrEqual(3);
    expect(await audioPacketHashes(aacFiles)).toEqual(audioSourceHashes);
  } else expect(aacFiles).toHaveLength(0);
}

describe("codec matrix: every pair through the real service (Debian ffmpeg 5.1)", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startService(allFormats(INTERVAL));
  });
  afterAll(() => h?.stop());

  it("H.265 (Enhanced RTMP hvc1) + AAC: FLV, HLS, MP4 and AAC, cut on H.265 keyframes", async () => {
    await recordAndCheck(h, "hevc-aac", "hevc-aac", EXPECTED["hevc-aac"]);
  });

  it("H.265 (legacy FLV codec id 12) + MP3: FLV (written as hvc1), HLS, MP4; AAC refused by the matrix", async () => {
    await recordAndCheck(h, "hevc12-mp3", "hevc12-mp3", EXPECTED["hevc12-mp3"]);
  });

  it("H.265 + Opus (OpusHead followed by a MultichannelConfig): FLV, HLS, MP4", async () => {
    await recordAndCheck(h, "hevc-opus", "hevc-opus", EXPECTED["hevc-opus"]);
  });

  it("AV1 + Opus: FLV and MP4, cut on AV1 keyframes; HLS and AAC refused by the matrix", async () => {
    await recordAndCheck(h, "av1-opus", "av1-opus", EXPECTED["av1-opus"]);
  });

  it("AV1 + MP3 (Enhanced RTMP '.mp3'): FLV and MP4", async () => {
    await recordAndCheck(h, "av1-mp3", "av1-mp3", EXPECTED["av1-mp3"]);
  });

  it("H.264 + AAC in Enhanced RTMP headers (avc1, mp4a): every format", async () => {
    await recordAndCheck(h, "avc1-mp4a", "avc1-mp4a", EXPECTED["avc1-mp4a"]);
  });

  it("H.266 (synthetic vvc1): FLV tag for tag and AAC; HLS/MP4 refused because this ffmpeg cannot carry VVC", async () => {
    await recordAndCheck(h, "vvc1-aac", "vvc1-aac", EXPECTED["vvc1-aac"]);
    const [closed] = await h.closed("vvc1-aac");
    for (const s of closed!.skipped) expect(s.reason).toMatch(/h266 to (HLS|MP4): .*vvc/);
  });

  it("Opus audio only: FLV, HLS and MP4 (rolled on time), every packet once", async () => {
    const fx = CODEC_FIXTURES["hevc-opus"];
    const buf = await readFile(fx.path);
    // The fixture's audio tags only (OpusHead, MultichannelConfig, frames), no onMetaData.
    const parts: Buffer[] = [Buffer.from([0x46, 0x4c, 0x56, 1, 4, 0, 0, 0, 9, 0, 0, 0, 0])];
    for (let pos = 13; pos + 11 <= buf.length; ) {
      const end = pos + 11 + buf.readUIntBE(pos + 1, 3) + 4;
      if (buf[pos] === 8) parts.push(buf.subarray(pos, end));
      pos = end;
    }
    const file = join(tmpdir(), `opus-only-${process.pid}.flv`);
    await writeFile(file, Buffer.concat(parts));
    await replayFlv(file, h.url("codecs", "opus-only"));
    const [closed] = await h.closed("opus-only");
    expect(closed!.tracks).toEqual({ audio: "opus" });
    expect([...closed!.formats].sort()).toEqual(["flv", "hls", "mp4"]);
    const dir = h.streamDir("codecs", "opus-only");
    const source = await packetDataHashes(fx.audioSource, "a");
    const flv = (await Promise.all((await listFiles(dir, "flv")).map(async (f) => readFlv(await readFile(f))))).flatMap((c) => c.frames);
    expect(flv.map((f) => md5(f.payload))).toEqual(source);
    const mp4 = await listFiles(dir, "mp4");
    expect(mp4.length).toBeGreaterThanOrEqual(3);
    expect((await probe(mp4[0]!)).streams.map((s) => s.codec_name)).toEqual(["opus"]);
    expect(await packetDataHashes(mp4, "a")).toEqual(source);
    expect(await packetDataHashes((await listFiles(dir, "m3u8"))[0]!, "a")).toEqual(source);
  });
});

describe("codec matrix with the bundled ffmpeg 4.1 (config ffmpegPath)", () => {
  let h: Harness;
  let bundled: string;
  beforeAll(async () => {
    bundled = (await import("@ffmpeg-installer/ffmpeg")).default.path;
    h = await startService(allFormats(INTERVAL), (c) => {
      c.ffmpegPath = bundled;
    });
  });
  afterAll(() => h?.stop());

  it("the effective matrix follows the binary: 4.1 records H.265 + Opus to HLS and MP4 too", async () => {
    expect(h.service.ffmpeg.path).toBe(bundled);
    const m = effectiveMatrix(await probeFfmpegCapabilities(bundled));
    expect(m.ffmpeg.libavformat).toBe("58.24");
    expect(m.cells.h265.mp4.recordable && m.cells.opus.mp4.recordable && m.cells.av1.mp4.recordable).toBe(true);
    expect(m.cells.h266.mp4.skip?.code).toBe("CODEC_NOT_SUPPORTED_BY_FFMPEG");
    await recordAndCheck(h, "hevc-opus", "hevc-opus-41", EXPECTED["hevc-opus"]);
  });
});
