import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { defaultRecordParam } from "../templates/template-schema.js";
import type { RecordParam, RecordTemplateInput } from "../templates/types.js";
import { SqliteCatalog } from "./sqlite-catalog.js";

const param = (Enable: 0 | 1 = 0): RecordParam => ({ ...defaultRecordParam(), Enable });

function templateInput(name: string): RecordTemplateInput {
  return {
    TemplateName: name,
    Description: "",
    FlvParam: param(1),
    HlsParam: param(),
    Mp4Param: param(),
    AacParam: param(),
    Mp3Param: param(),
    IsDelayLive: 0,
    HlsSpecialParam: { FlowContinueDuration: 0 },
    RemoveWatermark: false,
    CosStore: 0,
    FlvSpecialParam: { UploadInRecording: false },
  };
}

const NORMAL = { storageMode: "normal" as const };
const file = () => join(mkdtempSync(join(tmpdir(), "catalog-")), "catalog.sqlite");

describe("SqliteCatalog", () => {
  it("applies versioned migrations once, in WAL mode, and keeps data across reopen", async () => {
    const path = file();
    const a = new SqliteCatalog(path);
    expect(a.schemaVersion).toBe(5);
    const t = await a.insertTemplate(templateInput("a"), 50);
    await a.close();
    const b = new SqliteCatalog(path);
    expect(b.schemaVersion).toBe(5);
    expect(await b.getTemplate(t!.TemplateId)).toEqual(t);
    await b.close();
    const raw = new Database(path);
    expect(raw.pragma("journal_mode", { simple: true })).toBe("wal");
    expect(raw.prepare("SELECT COUNT(*) AS n FROM schema_migrations").get()).toEqual({ n: 5 });
    raw.close();
  });

  it("enforces the template limit and refuses to delete a template a rule uses", async () => {
    const c = new SqliteCatalog(file());
    const t1 = await c.insertTemplate(templateInput("a"), 2);
    await c.insertTemplate(templateInput("b"), 2);
    expect(await c.insertTemplate(templateInput("c"), 2)).toBeUndefined();
    expect(await c.insertRule({ DomainName: "d.com", AppName: "", StreamName: "", TemplateId: t1!.TemplateId }, 50, Date.now())).toMatchObject({
      DomainName: "d.com",
    });
    expect(await c.deleteTemplate(t1!.TemplateId)).toBe("in-use");
    expect(await c.deleteRule({ DomainName: "d.com", AppName: "", StreamName: "" })).toBe(true);
    expect(await c.deleteTemplate(t1!.TemplateId)).toBe("deleted");
    expect(await c.deleteTemplate(t1!.TemplateId)).toBe("not-found");
    await c.close();
  });

  it("keys rules by domain/app/stream, caps them, and reports Beijing-time strings", async () => {
    const c = new SqliteCatalog(file());
    const t = await c.insertTemplate(templateInput("a"), 50);
    const key = { DomainName: "d.com", AppName: "live", StreamName: "", TemplateId: t!.TemplateId };
    const rule = await c.insertRule(key, 2, Date.UTC(2025, 3, 1, 5, 8, 14));
    expect(rule).toMatchObject({ CreateTime: "2025-04-01 13:08:14" });
    expect(await c.insertRule(key, 2, Date.now())).toBe("exists");
    await c.insertRule({ ...key, StreamName: "s" }, 2, Date.now());
    expect(await c.insertRule({ ...key, StreamName: "s2" }, 2, Date.now())).toBe("limit");
    expect(await c.deleteRule({ DomainName: "d.com", AppName: "", StreamName: "" })).toBe(false); // exact match only
    await c.close();
  });

  it("caps overlapping tasks per stream, and stop/delete change what is pending", async () => {
    const c = new SqliteCatalog(file());
    const base = { DomainName: "d.com", AppName: "live", StreamName: "s", TemplateId: 0, Stopped: 0, StreamType: 0 as const, Extension: "" };
    for (let i = 0; i < 3; i++) expect(await c.insertTask({ ...base, TaskId: `t${i}`, StartTime: 100 + i, EndTime: 200 }, 3)).toBe(true);
    expect(await c.insertTask({ ...base, TaskId: "t3", StartTime: 150, EndTime: 250 }, 3)).toBe(false);
    expect(await c.insertTask({ ...base, TaskId: "t4", StartTime: 200, EndTime: 300 }, 3)).toBe(true); // touching, not overlapping
    expect(await c.stopTask("t0", 120)).toBe(true);
    expect(await c.stopTask("t0", 130)).toBe(false);
    expect(await c.deleteTask("t1")).toBe(true);
    expect((await c.pendingOrRunningTasks(110)).map((t) => t.TaskId)).toEqual(["t2", "t4"]);
    expect((await c.listTasks({})).map((t) => t.TaskId)).toEqual(["t0", "t2", "t4"]);
    expect((await c.getTask("t1"))?.deleted).toBe(true);
    await c.close();
  });

  it("indexes recording files by stream", async () => {
    const c = new SqliteCatalog(file());
    const f = {
      fileId: "f1",
      recordingId: "r1",
      domain: "d.com",
      app: "live",
      stream: "s",
      format: "mp4" as const,
      path: "recordings/d.com/live/s/x.mp4",
      startMs: 1,
      endMs: 2,
      durationSec: 0.001,
      sizeBytes: 10,
      taskId: "",
      templateId: 0,
      streamParam: "k=v",
      createdMs: 3,
      expiresMs: 0,
      mediaStartMs: 80,
      media: { videoCodec: "h264", width: 640, height: 360 },
    };
    await c.insertRecording(f);
    expect(await c.listRecordings({ stream: "s" })).toEqual([f]);
    expect(await c.listRecordings({ stream: "other" })).toEqual([]);
    await c.close();
  });

  it("keeps a durable upload queue: due order, backoff, stats, completion with the object's location", async () => {
    const path = file();
    let c = new SqliteCatalog(path);
    const rec = (fileId: string, createdMs: number, sizeBytes: number) => ({
      fileId,
      recordingId: "r1",
      domain: "d.com",
      app: "live",
      stream: "s",
      format: "flv" as const,
      path: `recordings/d.com/live/s/${fileId}.flv`,
      startMs: 1,
      endMs: 2,
      durationSec: 1,
      sizeBytes,
      taskId: "",
      templateId: 0,
      streamParam: "",
      createdMs,
      expiresMs: 0,
      mediaStartMs: 0,
      media: {},
    });
    await c.insertRecording(rec("a", 100, 10), NORMAL);
    await c.insertRecording(rec("b", 200, 20), NORMAL);
    await c.insertRecording(rec("local", 50, 5));
    await c.insertRecording({ ...rec("cold", 300, 7) }, { storageMode: "cold" });
    expect((await c.dueUploads(1000, 10, [])).map((u) => [u.file.fileId, u.status, u.storageMode])).toEqual([
      ["a", "pending", "normal"],
      ["b", "pending", "normal"],
      ["cold", "pending", "cold"],
    ]);
    expect((await c.dueUploads(1000, 10, ["a"])).map((u) => u.file.fileId)).toEqual(["b", "cold"]);
    expect(await c.uploadQueueStats()).toEqual({ files: 3, bytes: 37, failed: 0, oldestQueuedMs: 100, lastError: "" });
    expect(await c.markUploadFailed("a", "store unreachable", 5000)).toBe(true);
    expect((await c.dueUploads(1000, 10, [])).map((u) => u.file.fileId)).toEqual(["b", "cold"]);
    // Survives a reopen (a restart).
    await c.close();
    c = new SqliteCatalog(path);
    const [a] = await c.dueUploads(5000, 1, []);
    expect(a).toMatchObject({ attempts: 1, queuedMs: 100, status: "pending", file: { fileId: "a" } });
    expect((await c.uploadQueueStats()).lastError).toBe("store unreachable");
    // Stored: the location is recorded, the file stays queued ("uploaded", always due) until its callback is queued.
    const location = { store: "s3://bucket/p", key: "p/d.com/live/s/a.flv", size: 10, etag: '"x"', storageClass: "STANDARD" };
    expect(await c.completeUpload("a", location)).toBe(true);
    expect((await c.searchRecordings({ fileIds: ["a"], order: "Asc", offset: 0, limit: 1 })).files[0]?.location).toEqual(location);
    expect((await c.listRecordings({})).find((f) => f.fileId === "local")?.location).toBeUndefined();
    expect((await c.dueUploads(0, 10, [])).map((u) => [u.file.fileId, u.status])).toEqual([["a", "uploaded"]]);
    await c.finishUpload("a");
    // Never uploadable: kept as failed, not due, counted.
    expect(await c.failUpload("cold", "no cold storage class")).toBe(true);
    expect(await c.uploadQueueStats()).toMatchObject({ files: 1, bytes: 20, failed: 1 });
    // A deleted file leaves the queue with its row, and the delete says what the row was.
    expect((await c.deleteRecording("b"))?.fileId).toBe("b");
    expect(await c.deleteRecording("b")).toBeUndefined();
    expect(await c.markUploadFailed("b", "x", 0)).toBe(false);
    expect(await c.completeUpload("b", location)).toBe(false);
    expect(await c.hasRecordingAt("recordings/d.com/live/s/a.flv")).toBe(true);
    expect(await c.hasRecordingAt("recordings/d.com/live/s/b.flv")).toBe(false);
    await c.close();
  });

  it("refuses to open a catalog from a newer build with a typed error", async () => {
    const path = file();
    new SqliteCatalog(path).close();
    const raw = new Database(path);
    raw.prepare("INSERT INTO schema_migrations (version, applied_ms) VALUES (99, 0)").run();
    raw.close();
    expect(() => new SqliteCatalog(path)).toThrow(expect.objectContaining({ code: "CATALOG_OPEN_FAILED" }));
  });
});
