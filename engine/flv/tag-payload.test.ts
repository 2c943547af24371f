import { describe, expect, it } from "vitest";
import { describeAudio, describeVideo } from "./tag-info.js";
import { tagPayload, toEnhancedVideo, toLegacyAudio, toLegacyVideo } from "./tag-payload.js";
import { type FlvTag, TagType } from "./types.js";

const video = (bytes: number[], payload: Buffer, fourCc?: string): FlvTag => ({
  type: TagType.Video,
  timestamp: 1000,
  data: Buffer.concat([Buffer.from(bytes.slice(0, 1)), fourCc ? Buffer.from(fourCc, "latin1") : Buffer.alloc(0), Buffer.from(bytes.slice(1)), payload]),
});
const nal = Buffer.from([0, 0, 0, 3, 0x26, 0x01, 0xaf]);
const hvcC = Buffer.from([1, 1, 0x60, 0, 0, 0]);

describe("tagPayload", () => {
  it("finds the codec bytes behind legacy and Enhanced RTMP headers", () => {
    expect(tagPayload(video([0x1c, 1, 0, 0, 0x28], nal))!.payload.equals(nal)).toBe(true); // legacy id 12
    expect(tagPayload(video([0x91, 0, 0, 0x28], nal, "hvc1"))!.payload.equals(nal)).toBe(true); // CodedFrames + SI24
    expect(tagPayload(video([0xa3], nal, "hvc1"))!.payload.equals(nal)).toBe(true); // CodedFramesX
    expect(tagPayload(video([0x91], nal, "av01"))!.payload.equals(nal)).toBe(true); // AV1: no composition time
    expect(tagPayload(video([0x90], hvcC, "hvc1"))).toMatchObject({ track: "video", info: { kind: "config" } });
    const opusHead = Buffer.from("OpusHead\x01\x02", "latin1");
    const audio = { type: TagType.Audio, timestamp: 0, data: Buffer.concat([Buffer.from([0x90]), Buffer.from("Opus"), opusHead]) } as FlvTag;
    expect(tagPayload(audio)!.payload.equals(opusHead)).toBe(true);
    expect(tagPayload({ type: TagType.Audio, timestamp: 0, data: Buffer.from([0xaf, 1, 9, 8]) })!.payload).toEqual(Buffer.from([9, 8]));
  });
});

describe("H.265 header rewrites (payload and composition time untouched)", () => {
  it("turns Enhanced hvc1 into legacy id 12 and back", () => {
    const enhanced = [video([0x90], hvcC, "hvc1"), video([0x91, 0xff, 0xff, 0xd8], nal, "hvc1"), video([0xa3], nal, "hvc1")];
    for (const tag of enhanced) {
      const legacy = toLegacyVideo(tag);
      const before = describeVideo(tag.data);
      const after = describeVideo(legacy.data);
      expect(after).toMatchObject({ codec: "h265", enhanced: false, kind: before.kind, key: before.key, cts: before.cts });
      expect(tagPayload(legacy)!.payload.equals(tagPayload(tag)!.payload)).toBe(true);
      const back = toEnhancedVideo(legacy);
      expect(describeVideo(back.data)).toMatchObject({ codec: "h265", enhanced: true, kind: before.kind, key: before.key, cts: before.cts });
      expect(tagPayload(back)!.payload.equals(tagPayload(tag)!.payload)).toBe(true);
    }
    expect(toLegacyVideo(enhanced[1]!).data.subarray(0, 5)).toEqual(Buffer.from([0x1c, 1, 0xff, 0xff, 0xd8])) // keyframe, id 12, NALU, cts -40;
  });

  it("leaves tags already in the wanted form, and other codecs, as they are (same object)", () => {
    const legacy = video([0x1c, 1, 0, 0, 0], nal);
    expect(toLegacyVideo(legacy)).toBe(legacy);
    const av1 = video([0x91], nal, "av01");
    expect(toLegacyVideo(av1)).toBe(av1);
    expect(toEnhancedVideo(av1)).toBe(av1);
  });
});

describe("toLegacyAudio", () => {
  it("rewrites Enhanced mp4a and .mp3 to SoundFormat 10 / 2, keeps Opus", () => {
    const asc = Buffer.from([0x12, 0x10]);
    const seq = toLegacyAudio({ type: TagType.Audio, timestamp: 0, data: Buffer.concat([Buffer.from([0x90]), Buffer.from("mp4a"), asc]) });
    expect(seq.data).toEqual(Buffer.from([0xaf, 0, 0x12, 0x10]));
    const frame = Buffer.from([0xff, 0xfb, 0x90, 0x64, 1, 2]); // MPEG-1 layer III, 44.1 kHz, stereo
    const mp3 = toLegacyAudio({ type: TagType.Audio, timestamp: 0, data: Buffer.concat([Buffer.from([0x91]), Buffer.from(".mp3"), frame]) });
    expect(describeAudio(mp3.data)).toMatchObject({ codec: "mp3", enhanced: false, kind: "frame" });
    expect(mp3.data[0]).toBe(0x2f);
    expect(mp3.data.subarray(1)).toEqual(frame);
    const opus = { type: TagType.Audio, timestamp: 0, data: Buffer.concat([Buffer.from([0x91]), Buffer.from("Opus"), Buffer.from([1])]) } as FlvTag;
    expect(toLegacyAudio(opus)).toBe(opus);
  });
});
