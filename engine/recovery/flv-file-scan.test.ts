import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CODEC_FIXTURES, FIXTURES } from "../../fixtures/fixtures.js";
import { parseFlv } from "../flv/flv-format.js";
import { describeTag } from "../flv/tag-info.js";
import { TagType } from "../flv/types.js";
import { ONMETADATA_DURATION_KEY } from "../mux/flv-muxer.js";
import { MediaClock } from "../segment/media-clock.js";
import { scanFlvFile } from "./flv-file-scan.js";

/** What the scan must find, computed from the whole file in memory. */
function expected(buf: Buffer): { validLength: number; start: number | undefined; durationMs: number; durationOffset: number | undefined } {
  const parsed = parseFlv(buf);
  const clock = new MediaClock();
  for (const tag of parsed.tags) if (tag.type !== TagType.Script && describeTag(tag).kind === "frame") clock.observe(tag.type === TagType.Video, tag.timestamp);
  const meta = parsed.tags[0];
  const keyAt = meta?.type === TagType.Script ? meta.data.indexOf(ONMETADATA_DURATION_KEY) : -1;
  const durationOffset = keyAt >= 0 ? meta!.data.byteOffset - buf.byteOffset + keyAt + ONMETADATA_DURATION_KEY.length : undefined;
  return { validLength: parsed.validLength, start: clock.start, durationMs: clock.durationMs, durationOffset };
}

describe("scanFlvFile", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "flv-scan-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("finds what parsing the whole file finds, for torn files and any chunk size", async () => {
    // Legacy H.264/AAC, audio only, and Enhanced RTMP headers (hvc1 with composition times, Opus).
    for (const [name, fixture] of [["av-h264-aac-3s", FIXTURES["av-h264-aac-3s"]], ["audio-aac-10s", FIXTURES["audio-aac-10s"]], ["hevc-opus", CODEC_FIXTURES["hevc-opus"]]] as const) {
      const whole = await readFile(fixture.path);
      for (const cut of [whole.length, whole.length - 1, Math.floor(whole.length * 0.61), 5_000, 13]) {
        const buf = whole.subarray(0, cut);
        const path = join(dir, `${name}-${cut}.flv`);
        await writeFile(path, buf);
        const want = expected(buf);
        // Chunks smaller than a tag, odd-sized, and the default.
        for (const chunk of [61, 4096, undefined]) {
          const scan = await scanFlvFile(path, chunk);
          const got = { validLength: scan.validLength, start: scan.clock.start, durationMs: scan.clock.durationMs, durationOffset: scan.durationOffset };
          expect(got, `${name} cut at ${cut}, chunk ${chunk}`).toEqual(want);
        }
      }
      expect(expected(whole).durationMs).toBeGreaterThan(0);
    }
  });

  it("refuses a file that is not FLV", async () => {
    const path = join(dir, "not.flv");
    await writeFile(path, "not an flv file at all");
    await expect(scanFlvFile(path)).rejects.toMatchObject({ code: "FLV_BAD_HEADER" });
  });
});
