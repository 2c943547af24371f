import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FileFinisher, type FileJournalEntry, type FileNaming, finalFileName, type FinishedFile } from "./file-finisher.js";

const START = Date.UTC(2026, 10, 26, 2, 26, 36);

describe("finalFileName", () => {
  const naming: FileNaming = { directory: "/d", streamId: "cam1", utcOffsetMinutes: 480, vodFileNames: { mp4: "{StreamID}-{EndMinute}{EndSecond}" } };

  it("renders the format's VodFileName, or the default (spec §5), with the format's extension", () => {
    expect(finalFileName(naming, "flv", START, START + 1_800_000)).toEqual({ base: "cam1_2026-11-26-10-26-36_2026-11-26-10-56-36", ext: "flv" });
    expect(finalFileName(naming, "hls", START, START + 1000)).toEqual({ base: "cam1_2026-11-26-10-26-36_2026-11-26-10-26-37", ext: "m3u8" });
    expect(finalFileName(naming, "mp4", START, START + 62_000)).toEqual({ base: "cam1-2738", ext: "mp4" });
    expect(finalFileName({ ...naming, vodFileNames: { flv: "" } }, "flv", START, START).base).toBe("cam1_2026-11-26-10-26-36_2026-11-26-10-26-36");
  });
});

describe("FileFinisher", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "finisher-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("moves a complete file into place under its name, removes its leftovers, then journals and reports it", async () => {
    const src = join(dir, "rec.0.mp4");
    const frag = join(dir, "rec.0.frag.mp4");
    await writeFile(src, "0123456789");
    await writeFile(frag, "fragments");
    const journal: FileJournalEntry[] = [];
    const reported: FinishedFile[] = [];
    const finisher = new FileFinisher(
      { directory: dir, streamId: "cam1", utcOffsetMinutes: 0, vodFileNames: {} },
      {
        journal: (e) => journal.push(e),
        completed: (f) => reported.push(f),
      },
    );
    finisher.opened({ format: "mp4", index: 0, path: src, fragmentedPath: frag, startTimestamp: 40 });
    const file = await finisher.finish({ format: "mp4", inProgressPath: src, startMs: START, endMs: START + 2000, durationSec: 2, index: 0, mediaStartMs: 40, leftovers: [frag] });
    const path = join(dir, "cam1_2026-11-26-02-26-36_2026-11-26-02-26-38.mp4");
    expect(file).toEqual({ format: "mp4", path, startMs: START, endMs: START + 2000, durationSec: 2, sizeBytes: 10, index: 0, mediaStartMs: 40 });
    expect(reported).toEqual([file]);
    expect(journal).toEqual([
      { kind: "open", format: "mp4", index: 0, path: src, fragmentedPath: frag, startTimestamp: 40 },
      { kind: "done", path: src },
    ]);
    expect(await readdir(dir)).toEqual([file.path.slice(dir.length + 1)]);
    expect(await readFile(path, "utf8")).toBe("0123456789");
  });

  it("never replaces a file: a taken name gets _1; a known size and extra bytes are used as given", async () => {
    const naming: FileNaming = { directory: dir, streamId: "s", utcOffsetMinutes: 0, vodFileNames: { aac: "fixed" } };
    const finisher = new FileFinisher(naming);
    const paths: string[] = [];
    for (const n of [1, 2]) {
      const src = join(dir, `in-${n}.aac`);
      await writeFile(src, "x".repeat(n));
      const f = await finisher.finish({ format: "aac", inProgressPath: src, startMs: START, endMs: START, durationSec: 0, index: n, mediaStartMs: 0, sizeBytes: 100, extraBytes: 5 });
      expect(f.sizeBytes).toBe(105);
      paths.push(f.path);
    }
    expect(paths).toEqual([join(dir, "fixed.aac"), join(dir, "fixed_1.aac")]);
    expect(await readFile(paths[0]!, "utf8")).toBe("x");
  });

  it("leaves the file where it is when the move fails, and reports nothing", async () => {
    const reported: FinishedFile[] = [];
    const finisher = new FileFinisher({ directory: join(dir, "missing"), streamId: "s", utcOffsetMinutes: 0, vodFileNames: {} }, { completed: (f) => reported.push(f) });
    const src = join(dir, "stays.flv");
    await writeFile(src, "x");
    await expect(finisher.finish({ format: "flv", inProgressPath: src, startMs: 0, endMs: 0, durationSec: 0, index: 0, mediaStartMs: 0 })).rejects.toMatchObject({ code: "RENAME_FAILED" });
    expect(await readFile(src, "utf8")).toBe("x");
    expect(reported).toEqual([]);
  });
});
