/**
 * A Recording fed Enhanced RTMP / legacy id 12 tags directly (no RTMP): which
 * sequence headers it keeps for the next file, and how H.265 is written into
 * FLV with each `flvHevcMode`.
 */
import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CODEC_FIXTURES } from "../../fixtures/fixtures.js";
import { parseFlv } from "../flv/flv-format.js";
import { describeFrame } from "../flv/frame.js";
import { describeAudio, describeTag, describeVideo } from "../flv/tag-info.js";
import { tagPayload } from "../flv/tag-payload.js";
import { type FlvTag, TagType } from "../flv/types.js";
import { silentLogger } from "../logger.js";
import { decodeAmf0 } from "../rtmp/amf0.js";
import { OUTPUT_FORMATS, type OutputFormat } from "../mux/types.js";
import { Recording } from "./recording.js";
import type { CompletedFile, RecordingSettings } from "./types.js";

async function record(fixture: string, formats: OutputFormat[], over: Partial<RecordingSettings> = {}): Promise<{ rec: Recording; files: CompletedFile[]; tags: FlvTag[] }> {
  const dir = await mkdtemp(join(tmpdir(), "recording-codecs-"));
  const settings: RecordingSettings = {
    formats: Object.fromEntries(OUTPUT_FORMATS.map((f) => [f, { enabled: formats.includes(f), intervalSec: 2 }])) as RecordingSettings["formats"],
    hlsSegmentSeconds: 4,
    utcOffsetMinutes: 480,
    probeWindowMs: 1000,
    maxQueueBytes: 64 * 1024 * 1024,
    hlsFlowContinueSec: 0,
    ...over,
  };
  const rec = new Recording(
    { id: "r1", domain: "d", app: "a", stream: "s", directory: dir, inProgressDirectory: join(dir, ".recording") },
    settings,
    { ffmpegPath: "ffmpeg", logger: silentLogger, now: () => 1_700_000_000_000 },
  );
  const files: CompletedFile[] = [];
  rec.on("file", (f) => files.push(f));
  const tags = parseFlv(await readFile(fixture)).tags;
  for (const tag of tags) rec.push(describeFrame(tag));
  await rec.end();
  files.sort((a, b) => a.index - b.index);
  return { rec, files, tags };
}

describe("sequence headers kept for the next file", () => {
  it("keeps the OpusHead when a MultichannelConfig follows it, and re-sends both", async () => {
    const { rec, files } = await record(CODEC_FIXTURES["hevc-opus"].path, ["flv"]);
    const audio = rec.configFrames().map((f) => f.tag).filter((t) => t.type === TagType.Audio);
    expect(audio.map((t) => describeAudio(t.data))).toEqual([
      expect.objectContaining({ codec: "opus", kind: "config" }),
      expect.objectContaining({ codec: "opus", multichannelConfig: true }),
    ]);
    expect(tagPayload(audio[0]!)!.payload.toString("latin1", 0, 8)).toBe("OpusHead");
    // Every FLV file after the first opens with hvcC, OpusHead and the channel config again.
    expect(files).toHaveLength(3);
    for (const f of files.slice(1)) {
      const leading = parseFlv(await readFile(f.path)).tags.slice(1, 4);
      expect(leading.map((t) => `${t.type}:${describeTag(t).kind}`)).toEqual(["9:config", "8:config", "8:other"]);
    }
  });

  it("keeps the legacy id 12 H.265 sequence header", async () => {
    const { rec } = await record(CODEC_FIXTURES["hevc12-mp3"].path, ["flv"], { flvHevcMode: "legacy" });
    const video = rec.configFrames().map((f) => f.tag).filter((t) => t.type === TagType.Video);
    expect(video.map((t) => describeVideo(t.data))).toEqual([expect.objectContaining({ codec: "h265", kind: "config", enhanced: false })]);
  });
});

describe("flvHevcMode: how H.265 is written into FLV", () => {
  const frames = (tags: FlvTag[]) => tags.filter((t) => t.type === TagType.Video && describeTag(t).kind !== "other");
  const same = (a: FlvTag[], b: FlvTag[]) => {
    expect(a.map((t) => tagPayload(t)!.payload.toString("hex"))).toEqual(b.map((t) => tagPayload(t)!.payload.toString("hex")));
    expect(a.map((t) => describeVideo(t.data).cts)).toEqual(b.map((t) => describeVideo(t.data).cts));
    expect(a.map((t) => describeVideo(t.data).key)).toEqual(b.map((t) => describeVideo(t.data).key));
  };

  for (const [fixture, mode, enhanced] of [
    ["hevc-aac", "legacy", false],
    ["hevc12-mp3", "enhanced", true],
    ["hevc-aac", "enhanced", true],
    ["hevc12-mp3", "legacy", false],
  ] as const) {
    it(`writes ${fixture} with ${mode} headers: only the header bytes change`, async () => {
      const { files, tags } = await record(CODEC_FIXTURES[fixture].path, ["flv"], { flvHevcMode: mode });
      const parsed = await Promise.all(files.map(async (f) => parseFlv(await readFile(f.path)).tags));
      const meta = decodeAmf0(parsed[0]![0]!.data)[1] as Record<string, unknown>;
      expect(meta.videocodecid).toBe(enhanced ? 0x68766331 : 12); // onMetaData says the same as the tags
      const written = parsed.map(frames);
      for (const file of written) {
        for (const t of file) expect(describeVideo(t.data)).toMatchObject({ codec: "h265", enhanced });
        expect(describeVideo(file[0]!.data).kind).toBe("config"); // each file opens with the sequence header
      }
      same(
        written.flatMap((f) => f.filter((t) => describeVideo(t.data).kind === "frame")),
        frames(tags).filter((t) => describeVideo(t.data).kind === "frame"),
      );
      if (enhanced === (CODEC_FIXTURES[fixture].videoHeader === "enhanced")) {
        // Already in the wanted form: the tags are copied byte for byte.
        expect(written.flat().filter((t) => describeVideo(t.data).kind === "frame").map((t) => t.data.toString("hex"))).toEqual(
          frames(tags).filter((t) => describeVideo(t.data).kind === "frame").map((t) => t.data.toString("hex")),
        );
      }
    });
  }
});
