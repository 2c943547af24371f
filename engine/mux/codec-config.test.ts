import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { CODEC_FIXTURES, FIXTURES } from "../../fixtures/fixtures.js";
import { parseFlv } from "../flv/flv-format.js";
import { tagPayload } from "../flv/tag-payload.js";
import { aacConfigFormat, av1Dimensions, avcCDimensions, hvcCDimensions, hvcCNalus, mp3FrameFormat, opusHeadFormat, unescapeRbsp } from "./codec-config.js";

/** The sequence header record of a fixture's video / audio track. */
async function configOf(path: string, track: "video" | "audio"): Promise<Buffer> {
  for (const tag of parseFlv(await readFile(path)).tags) {
    const p = tagPayload(tag);
    if (p?.track === track && p.info.kind === "config") return p.payload;
  }
  throw new Error(`no ${track} config in ${path}`);
}

describe("codec configuration records (sizes as ffprobe reports them for the fixtures)", () => {
  it("reads the picture size from avcC (with and without cropping), hvcC and av1C", async () => {
    expect(avcCDimensions(await configOf(FIXTURES["av-h264-aac-3s"].path, "video"))).toEqual({ width: 640, height: 360 }); // 368 coded, cropped
    expect(avcCDimensions(await configOf(FIXTURES["av-h264-aac-10s-720x480"].path, "video"))).toEqual({ width: 720, height: 480 });
    expect(hvcCDimensions(await configOf(CODEC_FIXTURES["hevc-aac"].path, "video"))).toEqual({ width: 320, height: 240 });
    expect(hvcCDimensions(await configOf(CODEC_FIXTURES["hevc12-mp3"].path, "video"))).toEqual({ width: 320, height: 240 });
    expect(av1Dimensions(await configOf(CODEC_FIXTURES["av1-opus"].path, "video"))).toEqual({ width: 320, height: 240 });
    expect(hvcCNalus(await configOf(CODEC_FIXTURES["hevc-aac"].path, "video"))!.nalus.map((n) => (n[0]! >> 1) & 0x3f).slice(0, 3)).toEqual([32, 33, 34]);
  });

  it("reads sample rate and channels from AudioSpecificConfig, OpusHead and an MP3 frame header", async () => {
    expect(aacConfigFormat(await configOf(CODEC_FIXTURES["hevc-aac"].path, "audio"))).toEqual({ sampleRate: 44100, channels: 2 });
    expect(opusHeadFormat(await configOf(CODEC_FIXTURES["hevc-opus"].path, "audio"))).toEqual({ sampleRate: 48000, channels: 2 });
    expect(mp3FrameFormat(Buffer.from([0xff, 0xfb, 0x90, 0x64]))).toEqual({ sampleRate: 44100, channels: 2 });
    expect(mp3FrameFormat(Buffer.from([0xff, 0xf3, 0x84, 0xc4]))).toEqual({ sampleRate: 24000, channels: 1 }); // MPEG-2, mono
  });

  it("never throws on garbage, and removes emulation prevention bytes", () => {
    expect(hvcCDimensions(Buffer.from([1, 2, 3]))).toEqual({});
    expect(avcCDimensions(Buffer.alloc(40, 0xff))).toEqual({});
    expect(av1Dimensions(Buffer.from([0x81, 0, 0, 0, 0x0a, 0x7f]))).toEqual({});
    expect(unescapeRbsp(Buffer.from([0, 0, 3, 1, 0, 0, 3]))).toEqual(Buffer.from([0, 0, 1, 0, 0]));
  });
});
