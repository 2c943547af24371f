import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { CODEC_FIXTURES, FIXTURES } from "../../fixtures/fixtures.js";
import { parseFlv } from "../flv/flv-format.js";
import { describeFrame, type Frame } from "../flv/frame.js";
import { describeTag, describeVideo } from "../flv/tag-info.js";
import { type FlvTag, TagType } from "../flv/types.js";
import { FlvFeed, MatroskaFeed } from "./remux-feed.js";

async function split(path: string): Promise<{ configs: Frame[]; frames: Frame[] }> {
  const frames = parseFlv(await readFile(path)).tags.map(describeFrame);
  return { configs: frames.filter((f) => f.kind === "config"), frames: frames.filter((f) => f.kind === "frame") };
}

describe("FlvFeed", () => {
  it("writes legacy tags byte for byte, as before (the payload buffers themselves)", async () => {
    const { configs, frames } = await split(FIXTURES["av-h264-aac-3s"].path);
    const feed = new FlvFeed(true, true);
    const opening = feed.begin(configs);
    expect(opening[0]!.subarray(0, 3).toString()).toBe("FLV");
    expect(opening[2]).toBe(configs[0]!.tag.data);
    expect(feed.write(frames[0]!)[1]).toBe(frames[0]!.tag.data);
  });

  it("rewrites Enhanced RTMP avc1 / mp4a headers to the legacy ones ffmpeg < 7.1 reads", async () => {
    const { frames } = await split(CODEC_FIXTURES["avc1-mp4a"].path);
    const feed = new FlvFeed(true, true);
    const video = frames.find((f) => f.track === "video")!;
    const audio = frames.find((f) => f.track === "audio")!;
    const v = feed.write(video)[1]!;
    expect(v[0]).toBe(0x17); // keyframe, AVC
    expect(describeTag({ ...video.tag, data: v })).toMatchObject({ codec: "h264", enhanced: false, kind: "frame", cts: describeVideo(video.tag.data).cts });
    expect(feed.write(audio)[1]!.subarray(0, 2)).toEqual(Buffer.from([0xaf, 1]));
    // A MultichannelConfig has no legacy form: left out.
    const mc = describeFrame({ type: TagType.Audio, timestamp: 0, data: Buffer.concat([Buffer.from([0x94]), Buffer.from("mp4a"), Buffer.from([1, 2, 0, 0, 0, 3])]) });
    expect(feed.write(mc)).toEqual([]);
    expect(feed.begin([mc]).length).toBe(1); // the FLV header only
  });
});

describe("MatroskaFeed", () => {
  it("holds MP3 frames until one tells the sample rate, then writes header and frames in order", async () => {
    const { configs, frames } = await split(CODEC_FIXTURES["hevc12-mp3"].path);
    const feed = new MatroskaFeed({ video: "h265", audio: "mp3" });
    expect(feed.begin(configs)).toEqual([]); // hvcC known, MP3 rate not yet
    const firstVideo = frames.findIndex((f) => f.track === "video");
    const firstAudio = frames.findIndex((f) => f.track === "audio");
    const out: Buffer[] = [];
    for (const f of frames.slice(0, Math.max(firstVideo, firstAudio) + 1)) out.push(...feed.write(f));
    const bytes = Buffer.concat([...out, ...feed.end().bytes]);
    expect(bytes.readUInt32BE(0)).toBe(0x1a45dfa3);
    expect(bytes.includes(Buffer.from("A_MPEG/L3"))).toBe(true);
    // SamplingFrequency (B5), 8-byte float 44100.
    const rate = Buffer.alloc(8);
    rate.writeDoubleBE(44100);
    expect(bytes.includes(Buffer.concat([Buffer.from([0xb5, 0x88]), rate]))).toBe(true);
    expect(bytes.includes(Buffer.from([0x1f, 0x43, 0xb6, 0x75]))).toBe(true);
  });

  it("puts the parameter sets of a new H.265 config in front of the next keyframe", async () => {
    const { configs, frames } = await split(CODEC_FIXTURES["hevc-aac"].path);
    const feed = new MatroskaFeed({ video: "h265" });
    feed.begin(configs.filter((f) => f.track === "video"));
    const video = frames.filter((f) => f.track === "video");
    feed.write(video[0]!);
    // A new sequence header (here: the same record with its SEI array dropped).
    const config = configs.find((f) => f.track === "video")!.tag;
    const changed = describeFrame({ ...config, data: Buffer.concat([config.data.subarray(0, 5 + 22), Buffer.from([3]), config.data.subarray(5 + 23)]) });
    expect(feed.write(changed)).toEqual([]);
    const key = video.find((f, i) => i > 0 && f.key)!;
    const bytes = Buffer.concat([...feed.write(key), ...feed.end().bytes]);
    const VPS = Buffer.from([0x40, 0x01, 0x0c]); // VPS NAL unit header
    expect(config.data.includes(VPS)).toBe(true);
    expect(bytes.includes(VPS)).toBe(true);
    // Without a config change, frames carry no parameter sets (they are in CodecPrivate only).
    const plain = new MatroskaFeed({ video: "h265" });
    plain.begin(configs.filter((f) => f.track === "video"));
    plain.write(video[0]!);
    expect(Buffer.concat([...plain.write(key), ...plain.end().bytes]).includes(VPS)).toBe(false);
  });
});

describe("hostile tags", () => {
  it("never throw in either feed, whatever the header bytes claim", () => {
    let x = 0x2545f491;
    const rand = () => {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      return x >>> 0;
    };
    const heads = [[0x90], [0x91], [0x93], [0x1c, 0], [0x1c, 1], [0x17, 0], [0x94], [0xaf, 0], [0x2f]];
    const fourCcs = ["hvc1", "av01", "avc1", "vvc1", "Opus", "mp4a", ".mp3", ""];
    for (const feed of [new MatroskaFeed({ video: "h265", audio: "opus" }), new MatroskaFeed({ video: "av1", audio: "mp3" }), new FlvFeed(true, true)]) {
      feed.begin([]);
      for (let i = 0; i < 3000; i++) {
        const head = heads[rand() % heads.length]!;
        const body = Buffer.alloc(rand() % 64);
        for (let j = 0; j < body.length; j++) body[j] = rand() & 0xff;
        const data = Buffer.concat([Buffer.from(head.slice(0, 1)), Buffer.from(fourCcs[rand() % fourCcs.length]!, "latin1"), Buffer.from(head.slice(1)), body]);
        const tag = { type: rand() % 2 ? TagType.Video : TagType.Audio, timestamp: rand() % 100_000, data } as FlvTag;
        expect(() => feed.write(describeFrame(tag))).not.toThrow();
      }
      expect(() => feed.end()).not.toThrow();
    }
  });
});
