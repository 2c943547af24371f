import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { silentLogger } from "../../engine/logger.js";
import { defaultRecordParam } from "../templates/template-schema.js";
import { FileIndexer, type FileMeta, type IndexedFile } from "./file-indexer.js";
import { SqliteCatalog } from "./sqlite-catalog.js";
import type { RecordingFile } from "./types.js";

const NOW = 1_700_000_000_000;
const META: FileMeta = { recordingId: "r-1", domain: "d.example", app: "live", stream: "s1", taskId: "t-1", templateId: 3, streamParam: "" };
const FILE = {
  format: "mp4" as const,
  path: "/data/recordings/d.example/live/s1/a.mp4",
  startMs: NOW - 60_000,
  endMs: NOW,
  durationSec: 60,
  sizeBytes: 123_456,
  index: 0,
  mediaStartMs: 40,
  media: { videoCodec: "h264" },
};

function setup(catalog = new SqliteCatalog(":memory:")) {
  const rows: RecordingFile[] = [];
  const files: IndexedFile[] = [];
  const indexer = new FileIndexer(catalog, "/data", silentLogger, (row, f) => {
    rows.push(row);
    files.push(f);
  }, false, () => NOW);
  return { catalog, indexer, rows, files };
}

describe("FileIndexer", () => {
  it("catalogs a file under its data-relative path with its StorageTime expiry, then hands it on", async () => {
    const s = setup();
    await s.indexer.index(FILE, META, 3600);
    const [stored] = await s.catalog.listRecordings({ stream: "s1" });
    expect(stored).toMatchObject({ ...META, format: "mp4", path: "recordings/d.example/live/s1/a.mp4", createdMs: NOW, expiresMs: NOW + 3_600_000, durationSec: 60 });
    expect(s.rows).toEqual([stored]);
    expect(s.files[0]).toMatchObject({ ...FILE, ...META, fileId: stored!.fileId });
    await s.indexer.index(FILE, META, 0);
    expect(s.rows[1]!.expiresMs).toBe(0);
    await s.catalog.close();
  });

  it("still hands the file on when the catalog cannot take it", async () => {
    const catalog = new SqliteCatalog(":memory:");
    await catalog.close();
    const s = setup(catalog);
    await s.indexer.index(FILE, META, 0);
    expect(s.files).toHaveLength(1);
  });

  it("reads a recovered file's task, template, stream param and storage time from its journal context", async () => {
    const s = setup();
    await s.indexer.indexRecovered({
      recordingId: "r-9",
      domain: "d.example",
      app: "live",
      stream: "s2",
      format: "flv",
      path: "/data/recordings/d.example/live/s2/b.flv",
      startMs: NOW - 5000,
      endMs: NOW,
      durationSec: 5,
      sizeBytes: 999,
      mediaStartMs: 0,
      context: { taskId: "t-2", templateId: 8, streamParam: "x=1", storageTimeSec: { flv: 60, hls: 0 } },
    });
    expect(s.rows[0]).toMatchObject({ recordingId: "r-9", stream: "s2", taskId: "t-2", templateId: 8, streamParam: "x=1", expiresMs: NOW + 60_000, media: {} });
    await s.indexer.indexRecovered({ ...s.files[0]!, recordingId: "r-10", context: {} });
    expect(s.rows[1]).toMatchObject({ taskId: "", templateId: 0, streamParam: "", expiresMs: 0 });
    await s.catalog.close();
  });

  it("with uploads: queues the file with its template's StorageMode, and never reuses a name the catalog has", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "indexer-"));
    const dir = join(dataDir, "recordings", "d.example", "live", "s1");
    mkdirSync(dir, { recursive: true });
    const catalog = new SqliteCatalog(":memory:");
    const off = { ...defaultRecordParam(), Enable: 0 as const };
    const template = await catalog.insertTemplate(
      {
        TemplateName: "cold",
        Description: "",
        ...{ FlvParam: off, HlsParam: off, AacParam: off, Mp3Param: off },
        Mp4Param: { ...off, Enable: 1, StorageMode: "cold" },
        IsDelayLive: 0,
        HlsSpecialParam: { FlowContinueDuration: 0 },
        RemoveWatermark: false,
        CosStore: 0,
        FlvSpecialParam: { UploadInRecording: false },
      },
      50,
    );
    const rows: RecordingFile[] = [];
    const indexer = new FileIndexer(catalog, dataDir, silentLogger, (row) => rows.push(row), true, () => NOW);
    const path = join(dir, "a.mp4");
    writeFileSync(path, "first");
    await indexer.index({ ...FILE, path }, { ...META, templateId: template!.TemplateId }, 0);
    // Uploaded and removed locally: the next file of that name (a VodFileName without times) gets another.
    rmSync(path);
    writeFileSync(path, "second");
    await indexer.index({ ...FILE, path }, META, 0);
    expect(rows.map((r) => r.path)).toEqual(["recordings/d.example/live/s1/a.mp4", "recordings/d.example/live/s1/a_1.mp4"]);
    expect(readFileSync(join(dir, "a_1.mp4"), "utf8")).toBe("second");
    const queued = (await catalog.dueUploads(NOW, 10, [])).map((u) => [u.file.path, u.storageMode]).sort();
    expect(queued).toEqual([
      ["recordings/d.example/live/s1/a.mp4", "cold"],
      ["recordings/d.example/live/s1/a_1.mp4", "normal"],
    ]);
    await catalog.close();
  });
});
