/**
 * Ingest behaviour end to end: exact FLV bytes, abrupt disconnects, parallel
 * streams, push end and re-publish, refusals, and Enhanced RTMP H.265.
 */
import { spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseFlv } from "../engine/flv/flv-format.js";
import { describeTag } from "../engine/flv/tag-info.js";
import { type FlvTag, TagType } from "../engine/flv/types.js";
import { RtmpPublisher } from "../engine/rtmp/rtmp-publisher.js";
import { CODEC_FIXTURES, FIXTURES } from "../fixtures/fixtures.js";
import { audioPacketHashes, decodesCleanly, ffmpegPath, packetTimes, videoFrameHashes } from "../scripts/test-support/media-check.js";
import { replayFlv } from "./cli/replay.js";
import { ffmpegPush, type Harness, listFiles, startService } from "./test-support/harness.js";

const every = (n: number) => ({ Enable: 1 as const, RecordInterval: n });
const allFormats = (n: number) => ({ FlvParam: every(n), HlsParam: every(n), Mp4Param: every(n), AacParam: every(n) });

async function mediaTags(file: string): Promise<FlvTag[]> {
  return parseFlv(await readFile(file)).tags.filter((t) => t.type !== TagType.Script);
}

describe("ingest", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startService(allFormats(4));
  });
  afterAll(() => h?.stop());

  it("FLV recordings carry exactly the pushed tags: same payload bytes, same timestamps (rebased per file)", async () => {
    const source = FIXTURES["av-h264-aac-10s-720x480"].path;
    await replayFlv(source, h.url("live", "bytes"));
    await h.closed("bytes");
    const pushed = await mediaTags(source);
    const files = await listFiles(h.streamDir("live", "bytes"), "flv");
    expect(files.length).toBe(3); // 4 + 4 + 2 s
    let i = 0;
    for (const [k, file] of files.entries()) {
      const parsed = parseFlv(await readFile(file));
      expect(describeTag(parsed.tags[0]!).kind).toBe("metadata"); // our onMetaData opens every file
      let tags = parsed.tags.slice(1);
      // Files after the first open with the codec config again, so each plays on its own.
      if (k > 0) {
        const leading = tags.findIndex((t) => describeTag(t).kind !== "config");
        expect(leading).toBe(2);
        tags = tags.slice(leading);
      }
      let base: number | undefined;
      for (const tag of tags) {
        const sent = pushed[i++]!;
        expect(tag.type).toBe(sent.type);
        expect(tag.data.equals(sent.data)).toBe(true);
        if (describeTag(tag).kind === "frame") base ??= sent.timestamp - tag.timestamp;
        if (base !== undefined) expect(tag.timestamp + base).toBe(sent.timestamp);
      }
      expect(tags.find((t) => describeTag(t).kind === "frame")!.timestamp).toBe(0); // each file starts at 0
    }
    expect(i).toBe(pushed.length);
  });

  it("a publisher killed mid-GOP leaves playable files holding every frame it sent", async () => {
    const source = FIXTURES["av-h264-aac-20s"].path;
    const bin = await ffmpegPath();
    const child = spawn(bin, ["-nostdin", "-loglevel", "error", "-re", "-i", source, "-c", "copy", "-f", "flv", h.url("live", "killed")], { stdio: "ignore" });
    await new Promise((r) => setTimeout(r, 5300)); // 5.3 s: mid-GOP (keyframes every 2 s)
    const killedAt = Date.now();
    child.kill("SIGKILL");
    const ended = new Promise<number>((resolve) => h.service.once("pushEnded", () => resolve(Date.now())));
    expect((await ended) - killedAt).toBeLessThan(1000);
    await h.closed("killed");
    const dir = h.streamDir("live", "killed");
    const flv = await listFiles(dir, "flv");
    expect(flv.length).toBe(2);
    for (const ext of ["flv", "mp4", "aac", "m3u8"]) {
      for (const f of await listFiles(dir, ext)) expect(await decodesCleanly(f), f).toBe("");
    }
    const recorded = await videoFrameHashes(flv);
    expect(recorded.length).toBeGreaterThan(100);
    // Cut mid-GOP, the decoder cannot output B-frames whose later reference never arrived:
    // everything up to the last few frames must match the source exactly.
    const settled = recorded.length - 4;
    expect(recorded.slice(0, settled)).toEqual((await videoFrameHashes(source)).slice(0, settled));
    expect(await videoFrameHashes(await listFiles(dir, "mp4"))).toEqual(recorded);
  });

  it("two publishers on different streams at once record independently", async () => {
    const a = FIXTURES["av-h264-aac-10s-720x480"].path;
    const b = FIXTURES["video-h264-10s"].path;
    await Promise.all([ffmpegPush(a, h.url("live", "left"), { realtime: true }), ffmpegPush(b, h.url("live", "right"), { realtime: true })]);
    await Promise.all([h.closed("left"), h.closed("right")]);
    expect(await videoFrameHashes(await listFiles(h.streamDir("live", "left"), "mp4"))).toEqual(await videoFrameHashes(a));
    expect(await videoFrameHashes(await listFiles(h.streamDir("live", "right"), "flv"))).toEqual(await videoFrameHashes(b));
    expect(await audioPacketHashes(await listFiles(h.streamDir("live", "left"), "aac"))).toEqual(await audioPacketHashes(a));
  });

  it("ends a push within 1 s of the publisher leaving, and a re-publish is a new push", async () => {
    const source = FIXTURES["av-h264-aac-3s"].path;
    const ids: string[] = [];
    for (let n = 0; n < 2; n++) {
      const ended = new Promise<number>((resolve) =>
        h.service.once("pushEnded", (e) => {
          ids.push(e.pushId);
          resolve(Date.now());
        }),
      );
      await replayFlv(source, h.url("live", "again"));
      const closedAt = Date.now();
      expect((await ended) - closedAt).toBeLessThan(1000);
    }
    const closed = await h.closed("again", 2);
    expect(new Set(closed.map((c) => c.id)).size).toBe(2);
    expect(ids[0]).not.toBe(ids[1]);
    const flv = await listFiles(h.streamDir("live", "again"), "flv");
    expect(flv).toHaveLength(2);
    const once = await videoFrameHashes(source);
    for (const f of flv) expect(await videoFrameHashes(f)).toEqual(once);
  });

  it("replay --loop continues the timeline: every tag twice, timestamps strictly after the first pass", async () => {
    const source = FIXTURES["av-h264-aac-3s"].path;
    const result = await replayFlv(source, h.url("live", "loop"), { loop: 2, speed: 4 });
    await h.closed("loop");
    const pushed = await mediaTags(source);
    const recorded = (await Promise.all((await listFiles(h.streamDir("live", "loop"), "flv")).map(mediaTags))).flat();
    const frames = recorded.filter((t) => describeTag(t).kind === "frame");
    expect(frames).toHaveLength(2 * pushed.filter((t) => describeTag(t).kind === "frame").length);
    // The HLS playlist keeps the pushed timeline: decode times only go forward across the loop.
    const dts = (await packetTimes((await listFiles(h.streamDir("live", "loop"), "m3u8"))[0]!, "v")).map((p) => p.dts);
    expect(dts).toHaveLength(frames.filter((t) => t.type === TagType.Video).length);
    for (let i = 1; i < dts.length; i++) expect(dts[i]!).toBeGreaterThan(dts[i - 1]!);
    expect(result.mediaDurationMs).toBeGreaterThanOrEqual(6000);
    const once = await videoFrameHashes(source);
    expect(await videoFrameHashes(await listFiles(h.streamDir("live", "loop"), "mp4"))).toEqual([...once, ...once]);
  });

  it("refuses a second publish of a stream that is live, and the first keeps recording", async () => {
    const first = await RtmpPublisher.connect(h.url("live", "dup"));
    const tags = parseFlv(await readFile(FIXTURES["av-h264-aac-3s"].path)).tags;
    for (const t of tags.slice(0, 60)) first.sendTag(t);
    await expect(RtmpPublisher.connect(h.url("live", "dup"))).rejects.toMatchObject({
      code: "RTMP_PUBLISH_REFUSED",
      status: expect.objectContaining({ code: "NetStream.Publish.BadName" }),
    });
    for (const t of tags.slice(60)) first.sendTag(t);
    await first.close();
    const [closed] = await h.closed("dup");
    expect(closed!.errors).toBe(0);
    expect(await videoFrameHashes(await listFiles(h.streamDir("live", "dup"), "flv"))).toEqual(await videoFrameHashes(FIXTURES["av-h264-aac-3s"].path));
  });

  it("refuses stream names that could leave the data folder, with a clear reason", async () => {
    for (const bad of ["..", ".", "a/b", "..\\..\\x", "x".repeat(1000), "caf\u00e9", "nul\u0000x", "\u202ecam", "line\nbreak"]) {
      await expect(RtmpPublisher.connect(h.url("live", "placeholder"), { publishName: bad })).rejects.toMatchObject({
        status: expect.objectContaining({ code: "NetStream.Publish.BadName", description: expect.stringContaining("is not allowed") }),
      });
    }
  });

  it("records Enhanced RTMP H.265 to FLV tag for tag, and to HLS, MP4 and AAC", async () => {
    // A real H.265 stream in Enhanced RTMP 'hvc1' tags (fixtures/codecs): the FLV path copies the tags,
    // ffmpeg gets them as Matroska (it cannot read Enhanced FLV) and remuxes HLS/MP4; see codecs.e2e.test.ts.
    const fixture = CODEC_FIXTURES["hevc-aac"];
    const tags = parseFlv(await readFile(fixture.path)).tags;
    await replayFlv(fixture.path, h.url("live", "hevc"));
    const [closed] = await h.closed("hevc");
    expect(closed!.tracks).toEqual({ video: "h265", audio: "aac" });
    expect(closed!.skipped).toEqual([]);
    expect([...closed!.formats].sort()).toEqual(["aac", "flv", "hls", "mp4"]);
    const dir = h.streamDir("live", "hevc");
    const recordedVideo = (await Promise.all((await listFiles(dir, "flv")).map(mediaTags))).flat().filter((t) => t.type === TagType.Video && describeTag(t).kind === "frame");
    const sentVideo = tags.filter((t) => t.type === TagType.Video && describeTag(t).kind === "frame");
    expect(recordedVideo.map((t) => t.data.toString("hex"))).toEqual(sentVideo.map((t) => t.data.toString("hex")));
    const sourceFrames = await videoFrameHashes(fixture.videoSource!);
    expect(sourceFrames).toHaveLength(fixture.videoFrames);
    expect(await videoFrameHashes(await listFiles(dir, "mp4"))).toEqual(sourceFrames);
    expect(await videoFrameHashes((await listFiles(dir, "m3u8"))[0]!)).toEqual(sourceFrames);
    expect(await audioPacketHashes(await listFiles(dir, "aac"))).toEqual(await audioPacketHashes(fixture.audioSource));
  });
});
