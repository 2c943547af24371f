import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { FIXTURES } from "../../fixtures/fixtures.js";
import { parseFlv } from "../flv/flv-format.js";
import type { Frame } from "../flv/frame.js";
import { type FlvTag, TagType } from "../flv/types.js";
import { type Logger, silentLogger } from "../logger.js";
import { OUTPUT_FORMATS } from "../mux/types.js";
import { Recording } from "../pipeline/recording.js";
import type { CompletedFile, RecordingSettings } from "../pipeline/types.js";
import { encodeAmf0, encodeEcmaArray } from "../rtmp/amf0.js";
import { MAX_HELD_BYTES, MAX_HELD_FRAMES, StreamHub } from "./stream-hub.js";
import type { FrameSink } from "./types.js";

const ID = { domain: "d", app: "a", stream: "s" };
const meta = (ts = 0): FlvTag => ({ type: TagType.Script, timestamp: ts, data: Buffer.concat([encodeAmf0("@setDataFrame", "onMetaData"), encodeEcmaArray({ width: 64, height: 48 })]) });
const vConfig = (ts = 0): FlvTag => ({ type: TagType.Video, timestamp: ts, data: Buffer.from([0x17, 0, 0, 0, 0, 1]) });
const aConfig = (ts = 0): FlvTag => ({ type: TagType.Audio, timestamp: ts, data: Buffer.from([0xaf, 0, 0x12, 0x10]) });
const video = (ts: number, key: boolean, size = 8): FlvTag => ({ type: TagType.Video, timestamp: ts, data: Buffer.concat([Buffer.from([key ? 0x17 : 0x27, 1, 0, 0, 0]), Buffer.alloc(size)]) });
const audio = (ts: number): FlvTag => ({ type: TagType.Audio, timestamp: ts, data: Buffer.from([0xaf, 1, 0x21]) });

class Sink implements FrameSink {
  readonly frames: Frame[] = [];
  arrival: number | undefined;
  constructor(readonly id: string) {}
  push(frame: Frame): void {
    this.frames.push(frame);
  }
  firstFrameArrivedAt(wallMs: number): void {
    this.arrival = wallMs;
  }
  /** Frames as "kind:track@dts" (k for a keyframe). */
  get seen(): string[] {
    return this.frames.map((f) => `${f.kind}:${f.track}@${f.dts}${f.kind === "frame" && f.track === "video" && f.key ? "k" : ""}`);
  }
}

/** GOPs of `length` video frames at 40 ms, each with an audio frame after it. */
function gops(count: number, length: number, from = 0): FlvTag[] {
  const tags: FlvTag[] = [];
  for (let i = 0; i < count * length; i++) tags.push(video(from + i * 40, i % length === 0), audio(from + i * 40 + 1));
  return tags;
}

function logger(lines: { msg: string; fields?: Record<string, unknown> }[]): Logger {
  return { ...silentLogger, warn: (msg, fields) => lines.push({ msg, ...(fields ? { fields } : {}) }) };
}

describe("StreamHub fan-out", () => {
  it("holds frames at push start: a recording attached then gets every one, then the live ones", () => {
    const hub = new StreamHub("p", ID);
    for (const t of [meta(), vConfig(), aConfig(), ...gops(1, 3)]) hub.onTag(t);
    const early = new Sink("early");
    hub.attach({ recording: early });
    hub.onTag(video(120, false));
    hub.release();
    hub.onTag(audio(121));
    expect(early.seen).toEqual([
      "metadata:data@0", "config:video@0", "config:audio@0",
      "frame:video@0k", "frame:audio@1", "frame:video@40", "frame:audio@41", "frame:video@80", "frame:audio@81",
      "frame:video@120", "frame:audio@121",
    ]);
    expect(hub.attachments.get("early")?.recording).toBe(early);
    expect(hub.bytesIn).toBe([meta(), vConfig(), aConfig(), ...gops(1, 3), video(120, false), audio(121)].reduce((n, t) => n + t.data.length, 0));
  });

  it("describes each tag once: every recording gets the same frame object", () => {
    const hub = new StreamHub("p", ID);
    const a = new Sink("a");
    const b = new Sink("b");
    hub.attach({ recording: a });
    hub.attach({ recording: b });
    hub.onTag(video(0, true));
    expect(a.frames[0]).toBe(b.frames[0]);
    expect(a.frames[0]).toMatchObject({ track: "video", kind: "frame", key: true, codec: "h264", dts: 0 });
  });

  it("mid-push: cached onMetaData and configs first, then media from the next keyframe", () => {
    const hub = new StreamHub("p", ID);
    hub.release();
    for (const t of [meta(), vConfig(), aConfig(), ...gops(1, 2)]) hub.onTag(t);
    const late = new Sink("late");
    hub.attach({ recording: late });
    hub.onTag(video(80, false));
    hub.onTag(audio(81));
    hub.onTag(vConfig(90)); // a new sequence header reaches it while it waits
    hub.onTag(video(120, true));
    hub.onTag(audio(121));
    expect(late.seen).toEqual(["metadata:data@0", "config:video@0", "config:audio@0", "config:video@90", "frame:video@120k", "frame:audio@121"]);
    expect(late.frames[0]).toMatchObject({ metadata: { width: 64, height: 48 } });
    expect(late.arrival).toBeUndefined();
    expect(hub.detach("late")?.recording).toBe(late);
    hub.onTag(video(160, false));
    expect(late.frames).toHaveLength(6);
  });

  it("mid-push, audio only: media from the next audio frame", () => {
    const hub = new StreamHub("p", ID);
    hub.release();
    hub.onTag(aConfig());
    hub.onTag(audio(0));
    const late = new Sink("late");
    hub.attach({ recording: late });
    hub.onTag(audio(23));
    expect(late.seen).toEqual(["config:audio@0", "frame:audio@23"]);
  });
});

describe("StreamHub hold at push start is bounded", () => {
  it("has named limits", () => {
    expect(MAX_HELD_FRAMES).toBe(2000);
    expect(MAX_HELD_BYTES).toBe(8 * 1024 * 1024);
  });

  it("drops the oldest GOPs past the frame cap, counts them and logs at release", () => {
    const lines: { msg: string; fields?: Record<string, unknown> }[] = [];
    const hub = new StreamHub("p", ID, { heldLimits: { frames: 20, bytes: 1 << 30 }, logger: logger(lines) });
    // 3 headers + 6 GOPs of 4 video and 4 audio frames: 51 frames, 20 may be held.
    for (const t of [meta(), vConfig(), aConfig(), ...gops(6, 4)]) hub.onTag(t);
    const rec = new Sink("r");
    hub.attach({ recording: rec });
    // The headers of the dropped head come first, then whole GOPs: the newest that fit.
    expect(rec.seen.slice(0, 4)).toEqual(["metadata:data@0", "config:video@0", "config:audio@0", "frame:video@640k"]);
    expect(rec.frames.length - 3).toBeLessThanOrEqual(20);
    expect(rec.frames.slice(3).every((f) => f.kind === "frame")).toBe(true);
    expect(hub.heldDropped).toBe(48 - (rec.frames.length - 3));
    hub.release();
    expect(lines).toEqual([{ msg: "frames dropped while the push's recordings were being chosen", fields: expect.objectContaining({ push: "p", dropped: hub.heldDropped }) }]);
  });

  it("bounds the bytes too; a GOP bigger than the cap is dropped until the next keyframe", () => {
    const hub = new StreamHub("p", ID, { heldLimits: { frames: 1000, bytes: 1000 } });
    hub.onTag(vConfig());
    for (let i = 0; i < 10; i++) hub.onTag(video(i * 40, i === 0, 200)); // 10 x 205 bytes: over the cap
    hub.onTag(video(400, false, 10)); // still waiting for a keyframe: dropped
    hub.onTag(video(440, true, 10));
    hub.onTag(video(480, false, 10));
    const rec = new Sink("r");
    hub.attach({ recording: rec });
    expect(rec.seen).toEqual(["config:video@0", "frame:video@440k", "frame:video@480"]);
    expect(hub.heldDropped).toBe(11);
  });

  it("drops nothing when the push's recordings are chosen in time", () => {
    const lines: { msg: string }[] = [];
    const hub = new StreamHub("p", ID, { logger: logger(lines) });
    for (const t of gops(10, 30)) hub.onTag(t);
    hub.release();
    expect(hub.heldDropped).toBe(0);
    expect(lines).toEqual([]);
  });
});

describe("StreamHub wall clock", () => {
  it("stamps the first tag's arrival and tells a recording fed held frames when its first frame arrived", () => {
    let clock = 1_000;
    const hub = new StreamHub("p", ID, { now: () => clock });
    expect(hub.startedAt.getTime()).toBe(1_000);
    clock = 1_200;
    hub.onTag(meta());
    clock = 1_250;
    hub.onTag(video(0, true));
    clock = 1_290;
    hub.onTag(video(40, false));
    clock = 5_000; // the template lookup was slow
    const rec = new Sink("r");
    hub.attach({ recording: rec });
    hub.release();
    expect(rec.arrival).toBe(1_250);
    // Attached mid-push: its first frame arrives live, no hint.
    const late = new Sink("late");
    hub.attach({ recording: late });
    expect(late.arrival).toBeUndefined();
  });

  it("a recording's files are named from the frames' arrival, not from when the held frames reached it", async () => {
    const dir = await mkdtemp(join(tmpdir(), "stream-hub-"));
    const settings: RecordingSettings = {
      formats: Object.fromEntries(OUTPUT_FORMATS.map((f) => [f, { enabled: f === "flv", intervalSec: 3600 }])) as RecordingSettings["formats"],
      hlsSegmentSeconds: 4,
      utcOffsetMinutes: 0,
      probeWindowMs: 1000,
      maxQueueBytes: 64 * 1024 * 1024,
      hlsFlowContinueSec: 0,
    };
    const arrival = Date.UTC(2024, 0, 2, 3, 4, 5);
    const attachedAt = arrival + 7_000;
    const hub = new StreamHub("p", ID, { now: () => arrival });
    const rec = new Recording({ id: "r1", ...ID, directory: dir, inProgressDirectory: join(dir, ".recording") }, settings, {
      ffmpegPath: "ffmpeg",
      logger: silentLogger,
      now: () => attachedAt,
    });
    const files: CompletedFile[] = [];
    rec.on("file", (f) => files.push(f));
    for (const tag of parseFlv(await readFile(FIXTURES["av-h264-aac-3s"].path)).tags) hub.onTag(tag);
    hub.attach({ recording: rec });
    hub.release();
    await rec.end();
    expect(files).toHaveLength(1);
    expect(files[0]!.startMs).toBe(arrival);
  });
});
