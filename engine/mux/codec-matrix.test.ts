import { describe, expect, it } from "vitest";
import { ffmpegPath } from "../../scripts/test-support/media-check.js";
import { effectiveMatrix, formatEffectiveMatrix, planFormats, remuxFeedFormat } from "./codec-matrix.js";
import { type FfmpegCapabilities, parseCodecList, parseFormatList, probeFfmpegCapabilities } from "../ffmpeg/ffmpeg-capabilities.js";
import { OUTPUT_FORMATS } from "./types.js";

/** A made-up ffmpeg with what the engine needs; tests take things away or add them. */
function caps(over: Partial<FfmpegCapabilities> = {}): FfmpegCapabilities {
  const codec = { decode: true, encode: false };
  return {
    path: "/opt/ffmpeg",
    version: "test",
    libavformat: { major: 59, minor: 27 },
    muxers: ["mp4", "mpegts", "segment", "adts", "matroska"],
    demuxers: ["flv", "matroska", "mpegts"],
    codecs: { h264: codec, hevc: codec, av1: codec, aac: codec, mp3: codec, opus: codec, vvc: { decode: false, encode: false } },
    ...over,
  };
}

describe("planFormats (documented matrix)", () => {
  it("records H.264 + AAC and H.264 + MP3 everywhere the matrix allows", () => {
    expect(planFormats(OUTPUT_FORMATS, { video: "h264", audio: "aac" }).formats).toEqual(["flv", "hls", "mp4", "aac"]);
    const mp3 = planFormats(OUTPUT_FORMATS, { video: "h264", audio: "mp3" });
    expect(mp3.formats).toEqual(["flv", "hls", "mp4"]);
    expect(mp3.skipped).toEqual([expect.objectContaining({ format: "aac", code: "CODEC_NOT_SUPPORTED_BY_FORMAT" })]);
  });

  it("skips AAC for video-only streams and keeps the rest", () => {
    const plan = planFormats(OUTPUT_FORMATS, { video: "h264" });
    expect(plan.formats).toEqual(["flv", "hls", "mp4"]);
    expect(plan.skipped[0]).toMatchObject({ format: "aac", code: "NO_AUDIO_TRACK" });
  });

  it("skips AV1 to HLS by the matrix, with a typed reason, while FLV still records", () => {
    const plan = planFormats(OUTPUT_FORMATS, { video: "av1", audio: "aac" });
    expect(plan.formats).toEqual(["flv", "mp4", "aac"]);
    expect(plan.skipped.find((s) => s.format === "hls")).toMatchObject({ code: "CODEC_NOT_SUPPORTED_BY_FORMAT" });
  });

  it("audio-only AAC records to every format", () => {
    expect(planFormats(OUTPUT_FORMATS, { audio: "aac" }).formats).toEqual(["flv", "hls", "mp4", "aac"]);
  });

  it("records H.265 + Opus to FLV, HLS and MP4 (Opus is not AAC)", () => {
    const plan = planFormats(OUTPUT_FORMATS, { video: "h265", audio: "opus" }, caps());
    expect(plan.formats).toEqual(["flv", "hls", "mp4"]);
    expect(plan.skipped).toEqual([expect.objectContaining({ format: "aac", code: "CODEC_NOT_SUPPORTED_BY_FORMAT" })]);
  });
});

describe("the effective matrix: documented, limited by the ffmpeg", () => {
  it("refuses H.266 to HLS/MP4 with an ffmpeg without VVC, and still records FLV and the AAC track", () => {
    const plan = planFormats(OUTPUT_FORMATS, { video: "h266", audio: "aac" }, caps());
    expect(plan.formats).toEqual(["flv", "aac"]);
    expect(plan.skipped.map((s) => `${s.format}:${s.code}`)).toEqual(["hls:CODEC_NOT_SUPPORTED_BY_FFMPEG", "mp4:CODEC_NOT_SUPPORTED_BY_FFMPEG"]);
    expect(plan.skipped[0]!.reason).toContain("vvc decoder");
  });

  it("follows a newer ffmpeg: VVC decoder and libavformat 61.7 make H.266 recordable", () => {
    const newer = caps({ libavformat: { major: 61, minor: 7 }, codecs: { ...caps().codecs, vvc: { decode: true, encode: false } } });
    expect(planFormats(OUTPUT_FORMATS, { video: "h266", audio: "opus" }, newer).formats).toEqual(["flv", "hls", "mp4"]);
    const m = effectiveMatrix(newer);
    expect(m.cells.h266.mp4).toMatchObject({ recordable: true, via: "ffmpeg-from-matroska" });
    // A VVC decoder in an older libavformat is not enough.
    const older = caps({ codecs: newer.codecs });
    expect(effectiveMatrix(older).cells.h266.mp4.skip?.reason).toMatch(/FFmpeg 7\.1\+/);
  });

  it("needs the Matroska demuxer for H.265/AV1/Opus, and for H.264 when it travels with Opus", () => {
    const noMkv = caps({ demuxers: ["flv", "mpegts"] });
    expect(effectiveMatrix(noMkv).cells.h265.mp4.skip).toMatchObject({ code: "CODEC_NOT_SUPPORTED_BY_FFMPEG", reason: expect.stringContaining("no matroska demuxer") });
    expect(effectiveMatrix(noMkv).cells.h264.mp4.recordable).toBe(true);
    const plan = planFormats(["mp4"], { video: "h264", audio: "opus" }, noMkv);
    expect(plan.skipped).toEqual([expect.objectContaining({ code: "CODEC_NOT_SUPPORTED_BY_FFMPEG", reason: expect.stringContaining("no matroska demuxer") })]);
    // Without the FLV demuxer, H.264 + Opus still records: the pair is fed as Matroska.
    expect(planFormats(["mp4"], { video: "h264", audio: "opus" }, caps({ demuxers: ["matroska"] })).formats).toEqual(["mp4"]);
    expect(planFormats(["mp4"], { video: "h264", audio: "aac" }, caps({ demuxers: ["matroska"] })).skipped[0]!.reason).toContain("no flv demuxer");
    expect(remuxFeedFormat(["h264", "aac"])).toBe("flv");
    expect(remuxFeedFormat(["h264", "opus"])).toBe("matroska");
  });

  it("refuses AV1 with an ffmpeg before 4.1, and everything but FLV when the probe failed", () => {
    expect(effectiveMatrix(caps({ libavformat: { major: 58, minor: 12 } })).cells.av1.mp4.skip?.reason).toMatch(/FFmpeg 4\.1\+/);
    const broken = caps({ muxers: [], demuxers: [], error: "/opt/ffmpeg listed no muxers or demuxers" });
    const plan = planFormats(OUTPUT_FORMATS, { video: "h264", audio: "aac" }, broken);
    expect(plan.formats).toEqual(["flv"]);
    expect(plan.skipped.every((s) => s.code === "CODEC_NOT_SUPPORTED_BY_FFMPEG")).toBe(true);
  });

  it("parses ffmpeg's -muxers / -codecs listings", () => {
    const formats = "File formats:\n D. = Demuxing supported\n .E = Muxing supported\n --\n D  flv             FLV (Flash Video)\n DE matroska,webm   Matroska / WebM\n  E mp4             MP4\n";
    expect(parseFormatList(formats)).toEqual(["flv", "matroska", "webm", "mp4"]);
    const codecs = "Codecs:\n D..... = Decoding supported\n -------\n DEV.L. hevc                 H.265\n ..V.L. vvc                  H.266\n DEAIL. aac    AAC\n";
    expect(parseCodecList(codecs)).toEqual({ hevc: { decode: true, encode: true }, vvc: { decode: false, encode: false }, aac: { decode: true, encode: true } });
  });
});

describe("the effective matrix on this machine", () => {
  it("Debian's ffmpeg 5.1 and the bundled 4.1: every documented pair but H.266 to HLS/MP4", async () => {
    const bundled = (await import("@ffmpeg-installer/ffmpeg")).default.path;
    for (const path of [await ffmpegPath(), bundled]) {
      const m = effectiveMatrix(await probeFfmpegCapabilities(path));
      const refused = Object.entries(m.cells).flatMap(([codec, row]) =>
        Object.entries(row)
          .filter(([, c]) => c.skip?.code === "CODEC_NOT_SUPPORTED_BY_FFMPEG")
          .map(([format]) => `${codec}:${format}`),
      );
      expect(refused, path).toEqual(["h266:hls", "h266:mp4"]);
      expect(m.cells.h265.mp4.via).toBe("ffmpeg-from-matroska");
      expect(m.cells.h264.hls.via).toBe("ffmpeg-from-flv");
      expect(m.cells.av1.flv).toMatchObject({ documented: "extended", recordable: true, via: "engine" });
      expect(formatEffectiveMatrix(m)).toContain("h266 to MP4:");
    }
    expect(effectiveMatrix(await probeFfmpegCapabilities(bundled)).ffmpeg.libavformat).toBe("58.24");
  });
});
