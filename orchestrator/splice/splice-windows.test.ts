import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { silentLogger } from "../../engine/logger.js";
import type { RecordingSettings } from "../../engine/pipeline/types.js";
import type { HlsPlaylistState } from "../../engine/splice/hls-state.js";
import { FileIndexer, type IndexedFile } from "../catalog/file-indexer.js";
import { SqliteCatalog } from "../catalog/sqlite-catalog.js";
import { HLS_ONLY, recordingSettings } from "../templates/recording-settings.js";
import { spliceKey, SpliceWindows } from "./splice-windows.js";

const NOW = 1_700_000_000_000;
const DEFAULTS = { fileNameUtcOffset: "+00:00", hlsSegmentSeconds: 4, probeWindowMs: 1000, maxQueueMegabytes: 8, flvHevcMode: "enhanced" as const };
const META = { recordingId: "r-1", domain: "d.example", app: "live", stream: "s1", taskId: "", templateId: 0, streamParam: "", storageTimeSec: 0 };

const open: { catalog: SqliteCatalog; windows: SpliceWindows }[] = [];
afterEach(async () => {
  for (const o of open.splice(0)) {
    await o.windows.stop();
    await o.catalog.close();
  }
});

/** A playlist with one real segment in a temp stream folder. */
function playlist(): HlsPlaylistState {
  const directory = mkdtempSync(join(tmpdir(), "splice-"));
  mkdirSync(join(directory, "seg"));
  writeFileSync(join(directory, "seg", "0.ts"), Buffer.alloc(1880));
  const livePath = join(directory, "live.m3u8");
  writeFileSync(livePath, "#EXTM3U\n");
  return {
    directory,
    folder: "seg",
    livePath,
    streamId: "s1",
    vodFileName: "",
    utcOffsetMinutes: 0,
    startMs: NOW - 4000,
    endMs: NOW,
    mediaStartMs: 0,
    media: {},
    sizeBytes: 1880,
    segments: [{ uri: "seg/0.ts", durationSec: 4, discontinuity: false }],
    liveTargetSec: 4,
  };
}

function setup(clock: { now: number }) {
  const catalog = new SqliteCatalog(":memory:");
  const files: IndexedFile[] = [];
  const indexer = new FileIndexer(catalog, "/", silentLogger, (_row, f) => files.push(f), false, () => clock.now);
  const windows = new SpliceWindows(catalog, indexer, silentLogger, () => clock.now);
  open.push({ catalog, windows });
  return { catalog, windows, files };
}

const hlsSettings = (flowSec: number): RecordingSettings => recordingSettings(DEFAULTS, { ...HLS_ONLY, HlsSpecialParam: { FlowContinueDuration: flowSec } });
const key = spliceKey({ domain: "d.example", app: "live", stream: "s1" }, "");

describe("SpliceWindows", () => {
  it("keys by stream and recorder", () => {
    expect(key).toBe("d.example/live/s1#rule");
    expect(spliceKey({ domain: "d", app: "a", stream: "s" }, "task-1")).toBe("d/a/s#task-1");
  });

  it("keeps a playlist open in the catalog and hands it to the next push within the window", async () => {
    const clock = { now: NOW };
    const s = setup(clock);
    await s.windows.keepOpen(key, playlist(), 30, META);
    expect(await s.catalog.listOpenPlaylists()).toHaveLength(1);
    clock.now += 10_000;
    const taken = await s.windows.take(key, hlsSettings(30));
    expect(taken?.state.segments).toHaveLength(1);
    expect(await s.catalog.listOpenPlaylists()).toHaveLength(0);
    expect(s.files).toHaveLength(0);
  });

  it("takes nothing when the template does not splice", async () => {
    const s = setup({ now: NOW });
    await s.windows.keepOpen(key, playlist(), 30, META);
    expect(await s.windows.take(key, hlsSettings(0))).toBeUndefined();
    expect(await s.catalog.listOpenPlaylists()).toHaveLength(1);
  });

  it("closes a playlist whose window passed: ENDLIST under its final name, one catalogued file", async () => {
    const clock = { now: NOW };
    const s = setup(clock);
    await s.windows.keepOpen(key, playlist(), 30, META);
    clock.now += 31_000;
    expect(await s.windows.take(key, hlsSettings(30))).toBeUndefined();
    expect(s.files).toHaveLength(1);
    const f = s.files[0]!;
    expect(f).toMatchObject({ format: "hls", recordingId: "r-1", durationSec: 4 });
    expect(readFileSync(f.path, "utf8")).toMatch(/#EXT-X-ENDLIST/);
    expect(await s.catalog.listRecordings({ stream: "s1" })).toHaveLength(1);
  });

  it("closes on its timer when no push comes back, and stop() waits for that close", async () => {
    const clock = { now: NOW };
    const s = setup(clock);
    await s.windows.keepOpen(key, playlist(), 0.05, META);
    clock.now += 1000;
    // The timer fires on its own (50 ms): wait for its catalog row, not for a fixed delay.
    for (let waited = 0; s.files.length === 0 && waited < 10_000; waited += 20) await new Promise((r) => setTimeout(r, 20));
    await s.windows.stop();
    expect(s.files).toHaveLength(1);
    expect(await s.catalog.listOpenPlaylists()).toHaveLength(0);
  });

  it("hands a taken playlist back to waiting, and restore() at start closes the expired and re-arms the rest", async () => {
    const clock = { now: NOW };
    const s = setup(clock);
    await s.windows.keepOpen(key, playlist(), 30, META);
    const taken = await s.windows.take(key, hlsSettings(30));
    await s.windows.handBack(taken!);
    expect(await s.catalog.listOpenPlaylists()).toHaveLength(1);
    await s.windows.keepOpen("d.example/live/s2#rule", playlist(), 60, { ...META, stream: "s2" });
    await s.windows.stop();

    // A restart 45 s later: the first window passed while down, the second has not.
    clock.now += 45_000;
    const restarted = new SpliceWindows(s.catalog, new FileIndexer(s.catalog, "/", silentLogger, (_r, f) => s.files.push(f), false, () => clock.now), silentLogger, () => clock.now);
    await restarted.restore();
    expect(s.files.map((f) => f.stream)).toEqual(["s1"]);
    expect((await s.catalog.listOpenPlaylists()).map((o) => o.spliceKey)).toEqual(["d.example/live/s2#rule"]);
    await restarted.stop();
  });

  it("makes a new push wait for a closing recording of the same key before looking", async () => {
    const s = setup({ now: NOW });
    let finish: () => void = () => {};
    const closing = new Promise<void>((resolve) => {
      finish = resolve;
    });
    s.windows.closingRecording(key, closing.then(() => s.windows.keepOpen(key, playlist(), 30, META)));
    const taking = s.windows.take(key, hlsSettings(30));
    finish();
    expect((await taking)?.spliceKey).toBe(key);
  });
});
