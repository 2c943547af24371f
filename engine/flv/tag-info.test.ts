import { describe, expect, it } from "vitest";
import { describeAudio, describeVideo } from "./tag-info.js";

describe("describeVideo", () => {
  it("reads legacy AVC config, keyframes and a negative composition time", () => {
    expect(describeVideo(Buffer.from([0x17, 0x00, 0, 0, 0, 1]))).toMatchObject({ codec: "h264", kind: "config" });
    expect(describeVideo(Buffer.from([0x17, 0x01, 0, 0, 0x28]))).toMatchObject({ kind: "frame", key: true, cts: 40 });
    // SI24 0xFFFFD8 = -40: composition time is signed.
    expect(describeVideo(Buffer.from([0x27, 0x01, 0xff, 0xff, 0xd8]))).toMatchObject({ key: false, cts: -40 });
  });

  it("reads legacy HEVC (codec id 12) and Enhanced RTMP FourCC headers", () => {
    expect(describeVideo(Buffer.from([0x1c, 0x00, 0, 0, 0]))).toMatchObject({ codec: "h265", kind: "config" });
    const hvcStart = Buffer.concat([Buffer.from([0x90]), Buffer.from("hvc1")]);
    expect(describeVideo(hvcStart)).toMatchObject({ codec: "h265", kind: "config", enhanced: true });
    const hvcFrame = Buffer.concat([Buffer.from([0x91]), Buffer.from("hvc1"), Buffer.from([0, 0, 0x50])]);
    expect(describeVideo(hvcFrame)).toMatchObject({ kind: "frame", key: true, cts: 80 });
    const av1X = Buffer.concat([Buffer.from([0xa3]), Buffer.from("av01")]);
    expect(describeVideo(av1X)).toMatchObject({ codec: "av1", kind: "frame", key: false, cts: 0 });
  });

  it("never throws on short or empty input", () => {
    expect(describeVideo(Buffer.alloc(0)).kind).toBe("other");
    expect(describeVideo(Buffer.from([0x90])).kind).toBe("other");
  });
});

describe("describeAudio", () => {
  it("reads AAC config/raw, MP3 and Enhanced RTMP Opus", () => {
    expect(describeAudio(Buffer.from([0xaf, 0x00, 0x12, 0x10]))).toMatchObject({ codec: "aac", kind: "config" });
    expect(describeAudio(Buffer.from([0xaf, 0x01, 0x21]))).toMatchObject({ codec: "aac", kind: "frame" });
    expect(describeAudio(Buffer.from([0x2f, 0xff, 0xfb]))).toMatchObject({ codec: "mp3", kind: "frame" });
    const opus = Buffer.concat([Buffer.from([0x90]), Buffer.from("Opus")]);
    expect(describeAudio(opus)).toMatchObject({ codec: "opus", kind: "config", enhanced: true });
  });

  it("does not take a MultichannelConfig for the sequence header it must not replace", () => {
    // ExAudioTagHeader packet type 4: channel order Native, 2 channels, FL|FR. As FFmpeg 7.1 sends after the OpusHead.
    const mc = Buffer.concat([Buffer.from([0x94]), Buffer.from("Opus"), Buffer.from([1, 2, 0, 0, 0, 3])]);
    expect(describeAudio(mc)).toMatchObject({ codec: "opus", kind: "other", multichannelConfig: true });
    const mp3 = Buffer.concat([Buffer.from([0x91]), Buffer.from(".mp3"), Buffer.from([0xff, 0xfb])]);
    expect(describeAudio(mp3)).toMatchObject({ codec: "mp3", kind: "frame", enhanced: true });
  });

  it("does not read a FourCC where a multitrack or ModEx audio packet has other bytes", () => {
    expect(describeAudio(Buffer.concat([Buffer.from([0x95, 0x01]), Buffer.from("Opus")]))).toMatchObject({ codec: "unknown", kind: "other" });
    expect(describeAudio(Buffer.concat([Buffer.from([0x97, 0x01]), Buffer.from("Opus")]))).toMatchObject({ codec: "unknown", kind: "other" });
  });
});
