import { existsSync } from "node:fs";
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FIXTURES } from "../../fixtures/fixtures.js";
import {
  audioCopyHashes,
  audioPacketHashes,
  decodesCleanly,
  durationSeconds,
  ffmpegPath,
  ffprobePath,
  framemd5Hashes,
  hlsPlaylist,
  type PacketTime,
  packetTimes,
  probe,
  runProcess,
  splitAdts,
  videoFrameHashes,
} from "./media-check.js";

const AV20 = FIXTURES["av-h264-aac-20s"];
const MP3 = FIXTURES["av-h264-mp3-10s"];

let dir: string;
let srcVideo: string[];
let srcAudio: string[];

/** Runs ffmpeg for test setup (remux, split); throws with stderr on failure. */
async function ff(...args: string[]): Promise<void> {
  const r = await runProcess(await ffmpegPath(), ["-nostdin", "-hide_banner", "-v", "error", "-y", ...args]);
  if (r.code !== 0) throw new Error(`ffmpeg ${args.join(" ")} failed:\n${r.stderr}`);
}

/** Timestamps relative to the first packet's dts, in ms, rounded (FLV has 1 ms resolution). */
function relative(times: PacketTime[]): [number, number][] {
  const t0 = times[0]?.dts ?? 0;
  return times.map((t) => [Math.round((t.pts - t0) * 1000), Math.round((t.dts - t0) * 1000)]);
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "media-check-"));
  [srcVideo, srcAudio] = await Promise.all([videoFrameHashes(AV20.path), audioPacketHashes(AV20.path)]);
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("binaries", () => {
  it("resolves ffmpeg and ffprobe, honouring FFMPEG_PATH / FFPROBE_PATH", async () => {
    const ffm = await ffmpegPath();
    const ffp = await ffprobePath();
    expect(existsSync(ffm)).toBe(true);
    expect(existsSync(ffp)).toBe(true);
    const saved = { m: process.env["FFMPEG_PATH"], p: process.env["FFPROBE_PATH"] };
    try {
      process.env["FFMPEG_PATH"] = "/opt/custom/ffmpeg";
      process.env["FFPROBE_PATH"] = "/opt/custom/ffprobe";
      expect(await ffmpegPath()).toBe("/opt/custom/ffmpeg");
      expect(await ffprobePath()).toBe("/opt/custom/ffprobe");
    } finally {
      if (saved.m === undefined) delete process.env["FFMPEG_PATH"];
      else process.env["FFMPEG_PATH"] = saved.m;
      if (saved.p === undefined) delete process.env["FFPROBE_PATH"];
      else process.env["FFPROBE_PATH"] = saved.p;
    }
  });

  it("SIGKILLs a process that outlives its timeout and says so", async () => {
    const started = Date.now();
    await expect(
      runProcess(
        await ffmpegPath(),
        ["-nostdin", "-v", "error", "-re", "-f", "lavfi", "-i", "testsrc2=rate=25", "-f", "null", "-"],
        { timeoutMs: 300 },
      ),
    ).rejects.toThrow(/killed after 300 ms timeout/);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it("rejects with the stderr tail when ffprobe fails", async () => {
    await expect(probe(join(dir, "does-not-exist.flv"))).rejects.toThrow(/No such file or directory/);
  });
});

describe("fixtures", () => {
  it.each(Object.entries(FIXTURES))("%s matches the fixture table", async (_name, fx) => {
    const p = await probe(fx.path);
    expect(p.format.format_name).toBe("flv");
    expect(p.format.duration).toBeCloseTo(fx.durationSeconds, 3);
    const v = p.streams.find((s) => s.codec_type === "video");
    const a = p.streams.find((s) => s.codec_type === "audio");
    expect(v?.codec_name).toBe(fx.videoCodec);
    expect(v?.width).toBe(fx.width);
    expect(v?.height).toBe(fx.height);
    expect(a?.codec_name).toBe(fx.audioCodec);
    if (a) {
      expect(a.sample_rate).toBe(44100);
      expect(a.channels).toBe(2);
    }
    if (fx.videoFrames !== undefined) {
      const vt = await packetTimes(fx.path, "v");
      expect(vt).toHaveLength(fx.videoFrames);
      // GOP: a keyframe exactly every gopSeconds, nowhere else.
      const keys = vt.filter((t) => t.keyframe).map((t) => Math.round((t.pts - vt[0]!.pts) * 1000));
      expect(keys).toEqual(Array.from({ length: keys.length }, (_, i) => i * (fx.gopSeconds ?? 0) * 1000));
      expect(keys).toHaveLength(Math.ceil(fx.videoFrames / 25 / (fx.gopSeconds ?? 1)));
      // B-frames: composition time offsets exist.
      expect(vt.some((t) => t.pts !== t.dts)).toBe(true);
    }
    if (fx.audioPackets !== undefined) expect(await packetTimes(fx.path, "a")).toHaveLength(fx.audioPackets);
  });

  it("durationSeconds equals ffprobe's format duration", async () => {
    expect(await durationSeconds(AV20.path)).toBeCloseTo(20.08, 3);
  });
});

describe("hash parsers", () => {
  it("framemd5Hashes keeps only the hash column of data lines", () => {
    const text = [
      "#format: frame checksums",
      "#tb 0: 1/25",
      "#stream#, dts,        pts, duration,     size, hash",
      "0,          0,          0,        1,   345600, 0123abcd",
      "0,          1,          1,        1,   345600, ffee0011",
      "",
    ].join("\n");
    expect(framemd5Hashes(text)).toEqual(["0123abcd", "ffee0011"]);
  });

  it("splitAdts handles 7-byte and 9-byte (CRC) headers and rejects garbage", () => {
    const adts = (payload: number[], crc: boolean): Buffer => {
      const hl = crc ? 9 : 7;
      const len = hl + payload.length;
      const h = [0xff, crc ? 0xf0 : 0xf1, 0x50, 0x80 | ((len >> 11) & 3), (len >> 3) & 0xff, ((len & 7) << 5) | 0x1f, 0xfc];
      return Buffer.from([...h, ...(crc ? [0xab, 0xcd] : []), ...payload]);
    };
    const frames = splitAdts(Buffer.concat([adts([1, 2, 3], false), adts([4, 5], true), adts([], false)]));
    expect(frames.map((f) => [f.offset, f.headerLength, [...f.payload]])).toEqual([
      [0, 7, [1, 2, 3]],
      [10, 9, [4, 5]],
      [21, 7, []],
    ]);
    expect(() => splitAdts(Buffer.from([0x00, 0x11, 2, 3, 4, 5, 6, 7]))).toThrow(/sync word/);
    expect(() => splitAdts(adts([1, 2, 3], false).subarray(0, 9))).toThrow(/truncated ADTS frame/);
  });
});

describe("checkers on the fixtures", () => {
  it("decodes every frame of the 20 s fixture (500 distinct frames) and every AAC packet (863)", () => {
    expect(srcVideo).toHaveLength(500);
    expect(new Set(srcVideo).size).toBe(500);
    expect(srcVideo.every((h) => /^[0-9a-f]{32}$/.test(h))).toBe(true);
    expect(srcAudio).toHaveLength(863);
    expect(srcAudio.every((h) => /^[0-9a-f]{32}$/.test(h))).toBe(true);
  });

  it("appends the hashes of several inputs in order", async () => {
    const three = FIXTURES["av-h264-aac-3s"].path;
    const one = await videoFrameHashes(three);
    const two = await videoFrameHashes([three, three]);
    expect(one).toHaveLength(75);
    expect(two).toEqual([...one, ...one]);
    const a1 = await audioPacketHashes(three);
    expect(await audioPacketHashes([three, three])).toEqual([...a1, ...a1]);
  });

  it("audioCopyHashes counts MP3 packets; audioPacketHashes refuses MP3 with a clear error", async () => {
    expect(await audioCopyHashes(MP3.path)).toHaveLength(MP3.audioPackets);
    await expect(audioPacketHashes(MP3.path)).rejects.toThrow(/Only AAC streams can be muxed by the ADTS muxer/);
  });

  it("packetTimes reports B-frame composition offsets and 2 s keyframes", async () => {
    const v = await packetTimes(AV20.path, "v");
    expect(v[0]).toMatchObject({ keyframe: true });
    expect(v[0]!.pts - v[0]!.dts).toBeCloseTo(0.08, 6); // two B-frames of reorder delay
    expect(v.filter((t) => t.keyframe)).toHaveLength(10);
    const a = await packetTimes(AV20.path, "a");
    expect(a[1]!.dts - a[0]!.dts).toBeCloseTo(1024 / 44100, 2);
  });

  it("remux to MP4 (-c copy): same decoded video, same AAC packets, same relative timestamps", async () => {
    const mp4 = join(dir, "remux.mp4");
    await ff("-i", AV20.path, "-map", "0", "-c", "copy", mp4);
    expect((await probe(mp4)).format.format_name).toContain("mp4");
    expect(await videoFrameHashes(mp4)).toEqual(srcVideo);
    expect(await audioPacketHashes(mp4)).toEqual(srcAudio);
    // Raw AAC in both FLV and MP4: demuxed packets are identical too.
    expect(await audioCopyHashes(mp4)).toEqual(await audioCopyHashes(AV20.path));
    expect(relative(await packetTimes(mp4, "v"))).toEqual(relative(await packetTimes(AV20.path, "v")));
    expect(await decodesCleanly(mp4)).toBe("");
  });

  it("3-way FLV split (-f segment -c copy): concatenated hashes equal the source's", async () => {
    await ff(
      "-i",
      AV20.path,
      "-map",
      "0",
      "-c",
      "copy",
      "-f",
      "segment",
      "-segment_time",
      "7",
      "-segment_format",
      "flv",
      join(dir, "seg%03d.flv"),
    );
    const segs = (await readdir(dir))
      .filter((f) => /^seg\d+\.flv$/.test(f))
      .sort()
      .map((f) => join(dir, f));
    expect(segs).toHaveLength(3);
    const perSegment = await Promise.all(segs.map((s) => videoFrameHashes(s)));
    expect(perSegment.map((h) => h.length)).toEqual([200, 150, 150]); // cuts at the keyframes at 8 s and 14 s
    expect(await videoFrameHashes(segs)).toEqual(srcVideo);
    expect(await audioPacketHashes(segs)).toEqual(srcAudio);
  });

  it("HLS VOD (-c copy -f hls): playlist parses, video and AAC packets equal the source's", async () => {
    const m3u8 = join(dir, "hls", "index.m3u8");
    await mkdir(join(dir, "hls"));
    await ff("-i", AV20.path, "-map", "0", "-c", "copy", "-f", "hls", "-hls_time", "4", "-hls_playlist_type", "vod", m3u8);
    const pl = await hlsPlaylist(m3u8);
    expect(pl.endList).toBe(true);
    expect(pl.playlistType).toBe("VOD");
    expect(pl.targetDuration).toBe(4);
    expect(pl.mediaSequence).toBe(0);
    expect(pl.segments).toHaveLength(5);
    expect(pl.segments.every((s) => !s.discontinuity && s.uri.endsWith(".ts"))).toBe(true);
    expect(pl.segments.reduce((sum, s) => sum + s.duration, 0)).toBeCloseTo(20, 1);
    expect(await videoFrameHashes(m3u8)).toEqual(srcVideo);
    expect(await audioPacketHashes(m3u8)).toEqual(srcAudio);
    // The segments decoded one by one give the same frames (each starts with an IDR).
    expect(await videoFrameHashes(pl.segments.map((s) => join(dir, "hls", s.uri)))).toEqual(srcVideo);
  });

  it("hlsPlaylist reports discontinuities and an open (live) playlist", async () => {
    const p = join(dir, "live.m3u8");
    await writeFile(
      p,
      [
        "#EXTM3U",
        "#EXT-X-VERSION:3",
        "#EXT-X-TARGETDURATION:4",
        "#EXT-X-MEDIA-SEQUENCE:7",
        "#EXTINF:4.000,",
        "a.ts",
        "#EXT-X-DISCONTINUITY",
        "#EXTINF:3.500,",
        "b.ts",
        "",
      ].join("\n"),
    );
    expect(await hlsPlaylist(p)).toEqual({
      endList: false,
      playlistType: undefined,
      targetDuration: 4,
      mediaSequence: 7,
      segments: [
        { uri: "a.ts", duration: 4, discontinuity: false },
        { uri: "b.ts", duration: 3.5, discontinuity: true },
      ],
    });
  });

  it("decodesCleanly: empty for a fixture, decoder errors for a corrupted copy", async () => {
    const three = FIXTURES["av-h264-aac-3s"].path;
    expect(await decodesCleanly(three)).toBe("");
    const bad = join(dir, "corrupt.flv");
    await copyFile(three, bad);
    const bytes = await readFile(bad);
    let x = 12345;
    for (let i = 20_000; i < 20_400; i++) {
      x = (x * 1103515245 + 12345) >>> 0;
      bytes[i] = x >>> 24;
    }
    await writeFile(bad, bytes);
    expect(await decodesCleanly(bad)).not.toBe("");
    expect(await decodesCleanly(join(dir, "missing.flv"))).toMatch(/No such file or directory/);
  });
});
