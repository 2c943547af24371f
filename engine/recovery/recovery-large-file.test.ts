/**
 * Recovery of an FLV file larger than 2 GiB (more than one Buffer can hold):
 * generated here, in the temp folder, never committed. Written with large
 * sequential writes; the scan reads it in chunks.
 */
import { mkdir, mkdtemp, open, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { FIXTURES } from "../../fixtures/fixtures.js";
import { ffmpegPath, probe } from "../../scripts/test-support/media-check.js";
import { encodeTag, parseFlv, tagSpan } from "../flv/flv-format.js";
import { describeFrame } from "../flv/frame.js";
import { describeTag } from "../flv/tag-info.js";
import { TagType } from "../flv/types.js";
import { silentLogger } from "../logger.js";
import { FlvMuxer } from "../mux/flv-muxer.js";
import { decodeAmf0 } from "../rtmp/amf0.js";
import { DEFAULT_VOD_FILE_NAME, renderVodFileName } from "../segment/naming.js";
import { JOURNAL_SUFFIX, type JournalEntry } from "./journal.js";
import { IN_PROGRESS_FOLDER, Recovery } from "./recovery.js";

const TWO_GIB = 2 ** 31;
/** Generated file size past 2 GiB: the cut point itself lies beyond 32-bit offsets. */
const PAST_TWO_GIB = 8 * 1024 * 1024;
/** Bytes handed to one write. */
const BATCH_BYTES = 64 * 1024 * 1024;
const FRAME_MS = 40;

describe("crash recovery of a large FLV file", () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it("streams a torn FLV file over 2 GiB: cut to the last whole tag, duration patched, named and reported", async () => {
    const root = await mkdtemp(join(tmpdir(), "recovery-large-"));
    dirs.push(root);
    const streamDir = join(root, "127.0.0.1", "live", "big");
    const inProgress = join(streamDir, IN_PROGRESS_FOLDER);
    await mkdir(inProgress, { recursive: true });
    const flvPath = join(inProgress, "rec-big.0.flv");

    // A real H.264 keyframe and its sequence header, from a fixture.
    const fixture = parseFlv(await readFile(FIXTURES["av-h264-aac-3s"].path));
    const video = fixture.tags.filter((t) => t.type === TagType.Video);
    const config = video.find((t) => describeTag(t).kind === "config")!;
    const keyframe = video.find((t) => {
      const info = describeTag(t);
      return info.kind === "frame" && info.key;
    })!;
    const opening = Buffer.concat(new FlvMuxer(false, true, {}).begin([describeFrame({ ...config, timestamp: 0 })]));
    const span = tagSpan(keyframe.data.length);
    const frames = Math.ceil((TWO_GIB + PAST_TWO_GIB - opening.length) / span);
    const validLength = opening.length + frames * span;

    // The keyframe repeated, FRAME_MS apart: one batch buffer, its timestamps rewritten before each write.
    const perBatch = Math.floor(BATCH_BYTES / span);
    const batch = Buffer.concat(Array.from({ length: perBatch }, () => encodeTag(TagType.Video, 0, keyframe.data)).flat());
    const fh = await open(flvPath, "w");
    try {
      await fh.write(opening);
      for (let done = 0; done < frames; done += perBatch) {
        const count = Math.min(perBatch, frames - done);
        for (let i = 0; i < count; i++) {
          const ts = (done + i) * FRAME_MS;
          batch.writeUIntBE(ts & 0xffffff, i * span + 4, 3);
          batch[i * span + 7] = ts >>> 24;
        }
        await fh.write(batch, 0, count * span);
      }
      // The crash: half of one more tag.
      await fh.write(batch, 0, Math.floor(span / 2));
    } finally {
      await fh.close();
    }
    expect((await stat(flvPath)).size).toBeGreaterThan(TWO_GIB);

    const wallStartMs = Date.UTC(2026, 10, 26, 2, 26, 36);
    const journal: JournalEntry[] = [
      {
        kind: "start",
        recordingId: "rec-big",
        domain: "127.0.0.1",
        app: "live",
        stream: "big",
        wallStartMs,
        firstTimestamp: 0,
        utcOffsetMinutes: 480,
        vodFileNames: {},
        context: { templateId: 7, taskId: "t1" },
      },
      { kind: "open", format: "flv", index: 0, path: flvPath, startTimestamp: 0 },
    ];
    const journalPath = join(inProgress, `rec-big${JOURNAL_SUFFIX}`);
    await writeFile(journalPath, journal.map((e) => `${JSON.stringify(e)}\n`).join(""));

    const report = await new Recovery(root, await ffmpegPath(), silentLogger).recoverJournal(journalPath);

    expect(report.failed).toEqual([]);
    expect(report.recovered).toHaveLength(1);
    const durationMs = frames * FRAME_MS;
    const name = renderVodFileName(DEFAULT_VOD_FILE_NAME, { streamId: "big", startMs: wallStartMs, endMs: wallStartMs + durationMs, utcOffsetMinutes: 480 });
    const file = report.recovered[0]!;
    expect(file).toMatchObject({
      recordingId: "rec-big",
      domain: "127.0.0.1",
      app: "live",
      stream: "big",
      format: "flv",
      path: join(streamDir, `${name}.flv`),
      startMs: wallStartMs,
      endMs: wallStartMs + durationMs,
      durationSec: durationMs / 1000,
      sizeBytes: validLength,
      mediaStartMs: 0,
      context: { templateId: 7, taskId: "t1" },
    });
    expect(name).toMatch(/^big_2026-11-26-10-26-36_2026-11-26-/);
    expect((await stat(file.path)).size).toBe(validLength);
    await expect(stat(flvPath)).rejects.toThrow();
    await expect(stat(journalPath)).rejects.toThrow();

    // Read back: the duration patched into onMetaData, the last tag whole.
    const head = Buffer.alloc(4096);
    const last = Buffer.alloc(4);
    const out = await open(file.path, "r");
    try {
      await out.read(head, 0, head.length, 0);
      await out.read(last, 0, 4, validLength - 4);
    } finally {
      await out.close();
    }
    const meta = parseFlv(head).tags[0]!;
    expect(meta.type).toBe(TagType.Script);
    expect(decodeAmf0(meta.data)[1]).toMatchObject({ duration: durationMs / 1000 });
    expect(last.readUInt32BE(0)).toBe(span - 4);
    // And as an independent reader sees it.
    const probed = await probe(file.path);
    expect(probed.format.size).toBe(validLength);
    expect(probed.format.duration).toBeCloseTo(durationMs / 1000, 1);
  }, 600_000);
});
