import { describe, expect, it } from "vitest";
import { encodeAmf0, encodeEcmaArray } from "../rtmp/amf0.js";
import { describeFrame, isMediaFrame } from "./frame.js";
import { TagType } from "./types.js";

describe("describeFrame", () => {
  it("describes media tags once: track, kind, codec, keyframe, dts and signed cts", () => {
    const tag = { type: TagType.Video, timestamp: 1000, data: Buffer.from([0x27, 0x01, 0xff, 0xff, 0xd8, 9]) };
    const f = describeFrame(tag);
    expect(f).toMatchObject({ tag, dts: 1000, track: "video", kind: "frame", codec: "h264", key: false, cts: -40 });
    expect(isMediaFrame(f)).toBe(true);
    const config = describeFrame({ type: TagType.Audio, timestamp: 0, data: Buffer.from([0xaf, 0x00, 0x12, 0x10]) });
    expect(config).toMatchObject({ track: "audio", kind: "config", codec: "aac" });
    expect(isMediaFrame(config)).toBe(false);
  });

  it("parses onMetaData into the frame; other script tags have none", () => {
    const data = Buffer.concat([encodeAmf0("@setDataFrame", "onMetaData"), encodeEcmaArray({ width: 640, height: 360, audiocodecid: 10 })]);
    const f = describeFrame({ type: TagType.Script, timestamp: 0, data });
    expect(f).toMatchObject({ track: "data", kind: "metadata", key: false, cts: 0, metadata: { width: 640, height: 360, announces: { video: false, audio: true } } });
    const cue = describeFrame({ type: TagType.Script, timestamp: 0, data: encodeAmf0("onCuePoint", 1) });
    expect(cue).toMatchObject({ track: "data", kind: "other" });
    expect("metadata" in cue).toBe(false);
  });
});
