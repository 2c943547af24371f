/**
 * The catalog in SQLite (better-sqlite3), under the data folder (see
 * sqlite-database.ts): every multi-step change in a transaction.
 * better-sqlite3 is synchronous; the methods are async only to keep the
 * Catalog interface open to a networked database. The callback tables are
 * in SqliteCallbackTables, which this class extends.
 */
import type { RecordRule, RecordRuleInput } from "../rules/types.js";
import type { RecordTask } from "../tasks/types.js";
import type { RecordTemplate, RecordTemplateInput } from "../templates/types.js";
import { LAST_ERROR_MAX_CHARS, SqliteCallbackTables } from "./sqlite-callbacks.js";
import { beijingTime, openCatalogDatabase, schemaVersion } from "./sqlite-database.js";
import type {
  Catalog,
  ObjectLocation,
  OpenPlaylist,
  QueuedUpload,
  RecordingFile,
  RecordingSearch,
  StorageMode,
  StoredTask,
  TaskQuery,
  UploadQueueStats,
} from "./types.js";

interface TaskRow {
  task_id: string;
  domain: string;
  app: string;
  stream: string;
  start_time: number;
  end_time: number;
  template_id: number;
  stopped: number;
  deleted: number;
  stream_type: number;
  extension: string;
}

function taskFromRow(r: TaskRow): StoredTask {
  return {
    TaskId: r.task_id,
    DomainName: r.domain,
    AppName: r.app,
    StreamName: r.stream,
    StartTime: r.start_time,
    EndTime: r.end_time,
    TemplateId: r.template_id,
    Stopped: r.stopped,
    StreamType: r.stream_type === 1 ? 1 : 0,
    Extension: r.extension,
    deleted: r.deleted === 1,
  };
}

interface RecordingRow {
  file_id: string;
  recording_id: string;
  domain: string;
  app: string;
  stream: string;
  format: RecordingFile["format"];
  path: string;
  start_ms: number;
  end_ms: number;
  duration_sec: number;
  size_bytes: number;
  task_id: string;
  template_id: number;
  stream_param: string;
  created_ms: number;
  expires_ms: number;
  meta: string;
  location: string;
}

function recordingFromRow(r: RecordingRow): RecordingFile {
  const meta = JSON.parse(r.meta) as { mediaStartMs?: number; media?: RecordingFile["media"] };
  return {
    fileId: r.file_id,
    recordingId: r.recording_id,
    domain: r.domain,
    app: r.app,
    stream: r.stream,
    format: r.format,
    path: r.path,
    startMs: r.start_ms,
    endMs: r.end_ms,
    durationSec: r.duration_sec,
    sizeBytes: r.size_bytes,
    taskId: r.task_id,
    templateId: r.template_id,
    streamParam: r.stream_param,
    createdMs: r.created_ms,
    expiresMs: r.expires_ms,
    mediaStartMs: meta.mediaStartMs ?? 0,
    media: meta.media ?? {},
    ...(r.location ? { location: JSON.parse(r.location) as ObjectLocation } : {}),
  };
}

export class SqliteCatalog extends SqliteCallbackTables implements Catalog {
  /** Opens (creating if needed) the catalog file and applies pending migrations. */
  constructor(readonly file: string) {
    super(openCatalogDatabase(file));
  }

  /** The schema version now applied. */
  get schemaVersion(): number {
    return schemaVersion(this.db);
  }

  async insertTemplate(t: RecordTemplateInput, maxTemplates: number): Promise<RecordTemplate | undefined> {
    return this.db.transaction(() => {
      const { n } = this.db.prepare("SELECT COUNT(*) AS n FROM templates").get() as { n: number };
      if (n >= maxTemplates) return undefined;
      const now = Date.now();
      const info = this.db.prepare("INSERT INTO templates (body, created_ms, updated_ms) VALUES ('{}', ?, ?)").run(now, now);
      const stored: RecordTemplate = { TemplateId: Number(info.lastInsertRowid), ...t };
      this.db.prepare("UPDATE templates SET body = ? WHERE id = ?").run(JSON.stringify(stored), stored.TemplateId);
      return stored;
    })();
  }

  async updateTemplate(t: RecordTemplate): Promise<boolean> {
    const info = this.db.prepare("UPDATE templates SET body = ?, updated_ms = ? WHERE id = ?").run(JSON.stringify(t), Date.now(), t.TemplateId);
    return info.changes === 1;
  }

  async deleteTemplate(id: number): Promise<"deleted" | "not-found" | "in-use"> {
    return this.db.transaction(() => {
      const used = this.db.prepare("SELECT 1 FROM rules WHERE template_id = ? LIMIT 1").get(id);
      if (used) return "in-use" as const;
      return this.db.prepare("DELETE FROM templates WHERE id = ?").run(id).changes === 1 ? ("deleted" as const) : ("not-found" as const);
    })();
  }

  async getTemplate(id: number): Promise<RecordTemplate | undefined> {
    const row = this.db.prepare("SELECT body FROM templates WHERE id = ?").get(id) as { body: string } | undefined;
    return row ? (JSON.parse(row.body) as RecordTemplate) : undefined;
  }

  async listTemplates(): Promise<RecordTemplate[]> {
    const rows = this.db.prepare("SELECT body FROM templates ORDER BY id").all() as { body: string }[];
    return rows.map((r) => JSON.parse(r.body) as RecordTemplate);
  }

  async insertRule(r: RecordRuleInput, maxRules: number, nowMs: number): Promise<RecordRule | "exists" | "limit"> {
    return this.db.transaction(() => {
      const exists = this.db.prepare("SELECT 1 FROM rules WHERE domain = ? AND app = ? AND stream = ?").get(r.DomainName, r.AppName, r.StreamName);
      if (exists) return "exists" as const;
      const { n } = this.db.prepare("SELECT COUNT(*) AS n FROM rules").get() as { n: number };
      if (n >= maxRules) return "limit" as const;
      this.db
        .prepare("INSERT INTO rules (domain, app, stream, template_id, created_ms, updated_ms) VALUES (?, ?, ?, ?, ?, ?)")
        .run(r.DomainName, r.AppName, r.StreamName, r.TemplateId, nowMs, nowMs);
      return { ...r, CreateTime: beijingTime(nowMs), UpdateTime: beijingTime(nowMs) };
    })();
  }

  async deleteRule(key: Pick<RecordRule, "DomainName" | "AppName" | "StreamName">): Promise<boolean> {
    return this.db.prepare("DELETE FROM rules WHERE domain = ? AND app = ? AND stream = ?").run(key.DomainName, key.AppName, key.StreamName).changes === 1;
  }

  async listRules(): Promise<RecordRule[]> {
    const rows = this.db.prepare("SELECT * FROM rules ORDER BY created_ms, domain, app, stream").all() as {
      domain: string;
      app: string;
      stream: string;
      template_id: number;
      created_ms: number;
      updated_ms: number;
    }[];
    return rows.map((r) => ({
      DomainName: r.domain,
      AppName: r.app,
      StreamName: r.stream,
      TemplateId: r.template_id,
      CreateTime: beijingTime(r.created_ms),
      UpdateTime: beijingTime(r.updated_ms),
    }));
  }

  async insertTask(t: RecordTask, maxOverlapping: number): Promise<boolean> {
    return this.db.transaction(() => {
      const { n } = this.db
        .prepare(
          `SELECT COUNT(*) AS n FROM tasks
           WHERE domain = ? AND app = ? AND stream = ? AND deleted = 0 AND stopped = 0
             AND start_time < ? AND end_time > ?`,
        )
        .get(t.DomainName, t.AppName, t.StreamName, t.EndTime, t.StartTime) as { n: number };
      if (n >= maxOverlapping) return false;
      this.db
        .prepare(
          `INSERT INTO tasks (task_id, domain, app, stream, start_time, end_time, template_id, stopped, deleted, stream_type, extension)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?)`,
        )
        .run(t.TaskId, t.DomainName, t.AppName, t.StreamName, t.StartTime, t.EndTime, t.TemplateId, t.Stopped, t.StreamType, t.Extension);
      return true;
    })();
  }

  async getTask(taskId: string): Promise<StoredTask | undefined> {
    const row = this.db.prepare("SELECT * FROM tasks WHERE task_id = ?").get(taskId) as TaskRow | undefined;
    return row ? taskFromRow(row) : undefined;
  }

  async stopTask(taskId: string, stoppedSec: number): Promise<boolean> {
    return this.db.prepare("UPDATE tasks SET stopped = ? WHERE task_id = ? AND deleted = 0 AND stopped = 0").run(stoppedSec, taskId).changes === 1;
  }

  async deleteTask(taskId: string): Promise<boolean> {
    return this.db.prepare("UPDATE tasks SET deleted = 1 WHERE task_id = ? AND deleted = 0").run(taskId).changes === 1;
  }

  async listTasks(q: TaskQuery): Promise<StoredTask[]> {
    const where: string[] = [];
    const args: (string | number)[] = [];
    const add = (clause: string, value: string | number | undefined) => {
      if (value === undefined || value === "") return;
      where.push(clause);
      args.push(value);
    };
    if (!q.includeDeleted) where.push("deleted = 0");
    add("start_time >= ?", q.startTime);
    add("end_time <= ?", q.endTime);
    add("domain = ?", q.domain);
    add("app = ?", q.app);
    add("stream = ?", q.stream);
    const sql = `SELECT * FROM tasks ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY start_time, task_id`;
    return (this.db.prepare(sql).all(...args) as TaskRow[]).map(taskFromRow);
  }

  async pendingOrRunningTasks(nowSec: number): Promise<StoredTask[]> {
    const rows = this.db.prepare("SELECT * FROM tasks WHERE deleted = 0 AND stopped = 0 AND end_time > ? ORDER BY start_time").all(nowSec) as TaskRow[];
    return rows.map(taskFromRow);
  }

  async insertRecording(f: RecordingFile, upload?: { storageMode: StorageMode }): Promise<void> {
    this.db.transaction(() => {
      this.insertRecordingRow(f);
      if (upload) {
        this.db
          .prepare("INSERT INTO upload_queue (file_id, next_attempt_ms, queued_ms, storage_mode) VALUES (?, ?, ?, ?)")
          .run(f.fileId, f.createdMs, f.createdMs, upload.storageMode);
      }
    })();
  }

  async hasRecordingAt(path: string): Promise<boolean> {
    return this.db.prepare("SELECT 1 FROM recordings WHERE path = ? LIMIT 1").get(path) !== undefined;
  }

  private insertRecordingRow(f: RecordingFile): void {
    this.db
      .prepare(
        `INSERT INTO recordings (file_id, recording_id, domain, app, stream, format, path, start_ms, end_ms, duration_sec,
           size_bytes, task_id, template_id, stream_param, created_ms, expires_ms, meta, location)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        f.fileId,
        f.recordingId,
        f.domain,
        f.app,
        f.stream,
        f.format,
        f.path,
        f.startMs,
        f.endMs,
        f.durationSec,
        f.sizeBytes,
        f.taskId,
        f.templateId,
        f.streamParam,
        f.createdMs,
        f.expiresMs,
        JSON.stringify({ mediaStartMs: f.mediaStartMs, media: f.media }),
        f.location ? JSON.stringify(f.location) : "",
      );
  }

  async listRecordings(q: { domain?: string; app?: string; stream?: string }): Promise<RecordingFile[]> {
    const where: string[] = [];
    const args: string[] = [];
    for (const [col, v] of [["domain", q.domain], ["app", q.app], ["stream", q.stream]] as const) {
      if (v) {
        where.push(`${col} = ?`);
        args.push(v);
      }
    }
    const sql = `SELECT * FROM recordings ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY start_ms, format`;
    return (this.db.prepare(sql).all(...args) as RecordingRow[]).map(recordingFromRow);
  }

  async searchRecordings(q: RecordingSearch): Promise<{ total: number; files: RecordingFile[] }> {
    const where: string[] = [];
    const args: (string | number)[] = [];
    const anyOf = (col: string, values: readonly string[] | undefined) => {
      if (!values || values.length === 0) return;
      where.push(`${col} IN (${values.map(() => "?").join(", ")})`);
      args.push(...values);
    };
    anyOf("file_id", q.fileIds);
    anyOf("stream", q.streams);
    anyOf("domain", q.domains);
    anyOf("app", q.apps);
    anyOf("format", q.formats);
    if (q.createdAfterMs !== undefined) {
      where.push("created_ms >= ?");
      args.push(q.createdAfterMs);
    }
    if (q.createdBeforeMs !== undefined) {
      where.push("created_ms < ?");
      args.push(q.createdBeforeMs);
    }
    const clause = where.length ? `WHERE ${where.join(" AND ")}` : "";
    const { n } = this.db.prepare(`SELECT COUNT(*) AS n FROM recordings ${clause}`).get(...args) as { n: number };
    const order = q.order === "Asc" ? "ASC" : "DESC";
    const rows = this.db
      .prepare(`SELECT * FROM recordings ${clause} ORDER BY created_ms ${order}, file_id ${order} LIMIT ? OFFSET ?`)
      .all(...args, q.limit, q.offset) as RecordingRow[];
    return { total: n, files: rows.map(recordingFromRow) };
  }

  async expiredRecordings(nowMs: number, limit: number): Promise<RecordingFile[]> {
    const rows = this.db.prepare("SELECT * FROM recordings WHERE expires_ms > 0 AND expires_ms <= ? ORDER BY expires_ms LIMIT ?").all(nowMs, limit) as RecordingRow[];
    return rows.map(recordingFromRow);
  }

  async deleteRecording(fileId: string): Promise<RecordingFile | undefined> {
    // upload_queue rows go with it (ON DELETE CASCADE).
    const row = this.db.prepare("DELETE FROM recordings WHERE file_id = ? RETURNING *").get(fileId) as RecordingRow | undefined;
    return row ? recordingFromRow(row) : undefined;
  }

  async dueUploads(nowMs: number, limit: number, excludeIds: readonly string[]): Promise<QueuedUpload[]> {
    const skip = excludeIds.length ? `AND q.file_id NOT IN (${excludeIds.map(() => "?").join(", ")})` : "";
    const rows = this.db
      .prepare(`SELECT r.*, q.status AS q_status, q.storage_mode AS q_mode, q.attempts AS q_attempts, q.queued_ms AS q_queued_ms
                FROM upload_queue q JOIN recordings r ON r.file_id = q.file_id
                WHERE (q.status = 'uploaded' OR (q.status = 'pending' AND q.next_attempt_ms <= ?)) ${skip} ORDER BY q.queued_ms, q.file_id LIMIT ?`)
      .all(nowMs, ...excludeIds, limit) as (RecordingRow & { q_status: QueuedUpload["status"]; q_mode: StorageMode; q_attempts: number; q_queued_ms: number })[];
    return rows.map((r) => ({ file: recordingFromRow(r), status: r.q_status, storageMode: r.q_mode, attempts: r.q_attempts, queuedMs: r.q_queued_ms }));
  }

  async markUploadFailed(fileId: string, error: string, nextAttemptMs: number): Promise<boolean> {
    const sql = "UPDATE upload_queue SET attempts = attempts + 1, last_error = ?, next_attempt_ms = ? WHERE file_id = ? AND status = 'pending'";
    return this.db.prepare(sql).run(error.slice(0, LAST_ERROR_MAX_CHARS), nextAttemptMs, fileId).changes === 1;
  }

  async failUpload(fileId: string, error: string): Promise<boolean> {
    const sql = "UPDATE upload_queue SET status = 'failed', attempts = attempts + 1, last_error = ? WHERE file_id = ?";
    return this.db.prepare(sql).run(error.slice(0, LAST_ERROR_MAX_CHARS), fileId).changes === 1;
  }

  async completeUpload(fileId: string, location: ObjectLocation): Promise<boolean> {
    return this.db.transaction(() => {
      const updated = this.db.prepare("UPDATE recordings SET location = ? WHERE file_id = ?").run(JSON.stringify(location), fileId).changes === 1;
      this.db.prepare("UPDATE upload_queue SET status = 'uploaded', last_error = '' WHERE file_id = ?").run(fileId);
      return updated;
    })();
  }

  async finishUpload(fileId: string): Promise<void> {
    this.db.prepare("DELETE FROM upload_queue WHERE file_id = ?").run(fileId);
  }

  async uploadQueueStats(): Promise<UploadQueueStats> {
    const row = this.db
      .prepare(
        `SELECT COUNT(*) AS files, COALESCE(SUM(r.size_bytes), 0) AS bytes, COALESCE(MIN(q.queued_ms), 0) AS oldest
         FROM upload_queue q JOIN recordings r ON r.file_id = q.file_id WHERE q.status = 'pending'`,
      )
      .get() as { files: number; bytes: number; oldest: number };
    const { failed } = this.db.prepare("SELECT COUNT(*) AS failed FROM upload_queue WHERE status = 'failed'").get() as { failed: number };
    const last = this.db.prepare("SELECT last_error FROM upload_queue WHERE last_error != '' ORDER BY next_attempt_ms DESC LIMIT 1").get() as { last_error: string } | undefined;
    return { files: row.files, bytes: row.bytes, failed, oldestQueuedMs: row.oldest, lastError: last?.last_error ?? "" };
  }

  async saveOpenPlaylist(p: OpenPlaylist): Promise<void> {
    this.db
      .prepare("INSERT INTO open_playlists (splice_key, body, deadline_ms) VALUES (?, ?, ?) ON CONFLICT (splice_key) DO UPDATE SET body = excluded.body, deadline_ms = excluded.deadline_ms")
      .run(p.spliceKey, JSON.stringify(p), p.deadlineMs);
  }

  async takeOpenPlaylist(spliceKey: string): Promise<OpenPlaylist | undefined> {
    return this.db.transaction(() => {
      const row = this.db.prepare("SELECT body FROM open_playlists WHERE splice_key = ?").get(spliceKey) as { body: string } | undefined;
      if (!row) return undefined;
      this.db.prepare("DELETE FROM open_playlists WHERE splice_key = ?").run(spliceKey);
      return JSON.parse(row.body) as OpenPlaylist;
    })();
  }

  async listOpenPlaylists(): Promise<OpenPlaylist[]> {
    const rows = this.db.prepare("SELECT body FROM open_playlists ORDER BY deadline_ms").all() as { body: string }[];
    return rows.map((r) => JSON.parse(r.body) as OpenPlaylist);
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}
