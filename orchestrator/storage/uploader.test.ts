import { mkdtempSync } from "node:fs";
import { mkdir, readFile, readdir, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { silentLogger } from "../../engine/logger.js";
import { waitFor } from "../../scripts/test-support/wait-for.js";
import { SqliteCatalog } from "../catalog/sqlite-catalog.js";
import type { RecordingFile } from "../catalog/types.js";
import { FolderStore } from "./folder-store.js";
import { Uploader, type UploaderOptions } from "./uploader.js";

const NORMAL = { storageMode: "normal" as const };
const temp = (name: string) => mkdtempSync(join(tmpdir(), `${name}-`));
const running: Uploader[] = [];
afterEach(async () => {
  for (const u of running.splice(0)) await u.stop();
});

function row(fileId: string, format: RecordingFile["format"], name: string): RecordingFile {
  return {
    fileId,
    recordingId: "r",
    domain: "d.com",
    app: "live",
    stream: "s",
    format,
    path: join("recordings", "d.com", "live", "s", name),
    startMs: 0,
    endMs: 1,
    durationSec: 1,
    sizeBytes: 4,
    taskId: "",
    templateId: 0,
    streamParam: "",
    createdMs: Date.now(),
    expiresMs: 0,
    mediaStartMs: 0,
    media: {},
  };
}

async function setup(overrides: Partial<UploaderOptions> = {}) {
  const data = temp("data");
  const recordingsDir = join(data, "recordings");
  const streamDir = join(recordingsDir, "d.com", "live", "s");
  await mkdir(join(streamDir, "seg-1"), { recursive: true });
  const storeRoot = temp("store");
  const catalog = new SqliteCatalog(":memory:");
  const uploaded: RecordingFile[] = [];
  const options: UploaderOptions = {
    catalog,
    store: new FolderStore(storeRoot),
    recordingsDir,
    keepLocal: false,
    concurrency: 2,
    logger: silentLogger,
    onUploaded: async (f) => {
      uploaded.push(f);
    },
    retryBaseMs: 20,
    pollMs: 20,
    ...overrides,
  };
  const uploader = new Uploader(options);
  running.push(uploader);
  return { catalog, uploader, uploaded, streamDir, storeRoot, options };
}

describe("Uploader", () => {
  it("uploads a queued file, records where it is, removes the local copy, then hands it on", async () => {
    const s = await setup();
    await writeFile(join(s.streamDir, "a.flv"), "FLV1");
    await s.catalog.insertRecording(row("a", "flv", "a.flv"), NORMAL);
    await s.uploader.start();
    await waitFor(() => s.uploaded.length === 1, { what: "the upload" });
    expect(await readFile(join(s.storeRoot, "d.com/live/s/a.flv"), "utf8")).toBe("FLV1");
    expect(s.uploaded[0]!.location).toMatchObject({ store: `file://${s.storeRoot}`, key: "d.com/live/s/a.flv", size: 4 });
    expect((await s.catalog.listRecordings({}))[0]!.location).toEqual(s.uploaded[0]!.location);
    await expect(stat(join(s.streamDir, "a.flv"))).rejects.toMatchObject({ code: "ENOENT" });
    expect(await s.catalog.uploadQueueStats()).toMatchObject({ files: 0 });
  });

  it("uploads an HLS playlist after its segments; keepLocal keeps the local files", async () => {
    const s = await setup({ keepLocal: true });
    await writeFile(join(s.streamDir, "seg-1", "0.ts"), "TS0");
    await writeFile(join(s.streamDir, "seg-1", "1.ts"), "TS1");
    await writeFile(join(s.streamDir, "p.m3u8"), "#EXTM3U\n#EXTINF:1,\nseg-1/0.ts\n#EXTINF:1,\nseg-1/1.ts\n#EXT-X-ENDLIST\n");
    await s.catalog.insertRecording(row("p", "hls", "p.m3u8"), NORMAL);
    await s.uploader.start();
    await waitFor(() => s.uploaded.length === 1, { what: "the upload" });
    expect(await readdir(join(s.storeRoot, "d.com/live/s/seg-1"))).toEqual(["0.ts", "1.ts"]);
    expect(await readFile(join(s.storeRoot, "d.com/live/s/p.m3u8"), "utf8")).toContain("seg-1/1.ts");
    expect(await readFile(join(s.streamDir, "seg-1", "0.ts"), "utf8")).toBe("TS0");
  });

  it("without keepLocal, removes the segment folder but never the stream folder", async () => {
    const s = await setup();
    await writeFile(join(s.streamDir, "seg-1", "0.ts"), "TS0");
    await writeFile(join(s.streamDir, "p.m3u8"), "#EXTM3U\n#EXTINF:1,\nseg-1/0.ts\n#EXT-X-ENDLIST\n");
    await s.catalog.insertRecording(row("p", "hls", "p.m3u8"), NORMAL);
    await s.uploader.start();
    await waitFor(() => s.uploaded.length === 1, { what: "the upload" });
    expect(await readdir(s.streamDir)).toEqual([]);
  });

  it("retries a failed upload with backoff, showing the error, until the store takes it", async () => {
    const blocked = join(temp("blocked"), "target");
    await writeFile(blocked, "a file where the store's folder should be");
    const s = await setup({ store: new FolderStore(blocked) });
    await writeFile(join(s.streamDir, "a.flv"), "FLV1");
    await s.catalog.insertRecording(row("a", "flv", "a.flv"), NORMAL);
    await s.uploader.start();
    await waitFor(async () => ((await s.catalog.dueUploads(Date.now() + 60_000, 1, []))[0]?.attempts ?? 0) >= 2, { what: "two failed attempts" });
    const stats = await s.catalog.uploadQueueStats();
    expect(stats).toMatchObject({ files: 1, bytes: 4 });
    expect(stats.lastError).toMatch(/cannot store d.com\/live\/s\/a.flv/);
    expect(s.uploaded).toEqual([]);
    expect(await readFile(join(s.streamDir, "a.flv"), "utf8")).toBe("FLV1");
    await rm(blocked);
    await waitFor(() => s.uploaded.length === 1, { timeoutMs: 5000, what: "the upload once the store is back" });
    expect(await readFile(join(blocked, "d.com/live/s/a.flv"), "utf8")).toBe("FLV1");
  });

  it("does not send a segment the store already holds whole", async () => {
    const s = await setup();
    await writeFile(join(s.streamDir, "seg-1", "0.ts"), "TS0");
    await writeFile(join(s.streamDir, "p.m3u8"), "#EXTM3U\n#EXTINF:1,\nseg-1/0.ts\n#EXT-X-ENDLIST\n");
    await mkdir(join(s.storeRoot, "d.com/live/s/seg-1"), { recursive: true });
    await writeFile(join(s.storeRoot, "d.com/live/s/seg-1/0.ts"), "ts0"); // same size, other bytes: kept as is
    await s.catalog.insertRecording(row("p", "hls", "p.m3u8"), NORMAL);
    await s.uploader.start();
    await waitFor(() => s.uploaded.length === 1, { what: "the upload" });
    expect(await readFile(join(s.storeRoot, "d.com/live/s/seg-1/0.ts"), "utf8")).toBe("ts0");
  });

  it("parks a file whose local copy is gone as failed instead of retrying it for ever", async () => {
    const s = await setup();
    await s.catalog.insertRecording(row("gone", "flv", "gone.flv"), NORMAL);
    await s.uploader.start();
    await waitFor(async () => (await s.catalog.uploadQueueStats()).failed === 1, { what: "the file parked as failed" });
    expect(await s.catalog.uploadQueueStats()).toMatchObject({ files: 0, failed: 1, lastError: expect.stringMatching(/ENOENT/) });
    expect(s.uploaded).toEqual([]);
  });

  it("hands on a file stored before a restart whose callback was not queued yet, without uploading it again", async () => {
    const s = await setup();
    const f = row("done", "flv", "done.flv");
    await s.catalog.insertRecording(f, NORMAL);
    const location = { store: s.options.store.description, key: "d.com/live/s/done.flv", size: 4, etag: '"x"', storageClass: "STANDARD" };
    await s.catalog.completeUpload("done", location);
    await writeFile(join(s.streamDir, "done.flv"), "left"); // the local copy a crash left behind
    await s.uploader.start();
    await waitFor(() => s.uploaded.length === 1, { what: "the hand-on" });
    expect(s.uploaded[0]!.location).toEqual(location);
    await expect(stat(join(s.storeRoot, "d.com/live/s/done.flv"))).rejects.toMatchObject({ code: "ENOENT" }); // not uploaded again
    await expect(stat(join(s.streamDir, "done.flv"))).rejects.toMatchObject({ code: "ENOENT" });
    await waitFor(async () => (await s.catalog.dueUploads(Date.now(), 10, [])).length === 0, { what: "the file off the queue" });
  });
});
