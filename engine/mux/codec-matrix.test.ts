import { describe, expect, it } from "vitest";
import { planFormats } from "./codec-matrix.js";
import { OUTPUT_FORMATS } from "./types.js";

describe("planFormats", () => {
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
    expect(plan.formats).toContain("flv");
    expect(plan.formats).toContain("aac");
    expect(plan.skipped.find((s) => s.format === "hls")).toMatchObject({ code: "CODEC_NOT_SUPPORTED_BY_FORMAT" });
  });

  it("audio-only AAC records to every format", () => {
    expect(planFormats(OUTPUT_FORMATS, { audio: "aac" }).formats).toEqual(["flv", "hls", "mp4", "aac"]);
  });
});
