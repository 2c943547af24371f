/**
 * The catalog's SQLite database (better-sqlite3) under the data folder: WAL
 * mode, foreign keys, and versioned migrations in one table, each applied
 * once in a transaction.
 */
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import { StorageError } from "../../engine/errors.js";
import { hostOf } from "../callbacks/types.js";

/** Each entry runs once, in order; the applied version is stored in schema_migrations. */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE templates (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     body TEXT NOT NULL,
     created_ms INTEGER NOT NULL,
     updated_ms INTEGER NOT NULL
   );
   CREATE TABLE rules (
     domain TEXT NOT NULL,
     app TEXT NOT NULL,
     stream TEXT NOT NULL,
     template_id INTEGER NOT NULL REFERENCES templates(id),
     created_ms INTEGER NOT NULL,
     updated_ms INTEGER NOT NULL,
     PRIMARY KEY (domain, app, stream)
   );
   CREATE TABLE tasks (
     task_id TEXT PRIMARY KEY,
     domain TEXT NOT NULL,
     app TEXT NOT NULL,
     stream TEXT NOT NULL,
     start_time INTEGER NOT NULL,
     end_time INTEGER NOT NULL,
     template_id INTEGER NOT NULL,
     stopped INTEGER NOT NULL DEFAULT 0,
     deleted INTEGER NOT NULL DEFAULT 0,
     stream_type INTEGER NOT NULL DEFAULT 0,
     extension TEXT NOT NULL DEFAULT ''
   );
   CREATE INDEX tasks_by_stream ON tasks (domain, app, stream, end_time);
   CREATE TABLE recordings (
     file_id TEXT PRIMARY KEY,
     recording_id TEXT NOT NULL,
     domain TEXT NOT NULL,
     app TEXT NOT NULL,
     stream TEXT NOT NULL,
     format TEXT NOT NULL,
     path TEXT NOT NULL,
     start_ms INTEGER NOT NULL,
     end_ms INTEGER NOT NULL,
     duration_sec REAL NOT NULL,
     size_bytes INTEGER NOT NULL,
     task_id TEXT NOT NULL,
     template_id INTEGER NOT NULL,
     stream_param TEXT NOT NULL,
     created_ms INTEGER NOT NULL
   );
   CREATE INDEX recordings_by_stream ON recordings (domain, app, stream, start_ms);`,
  // 2: HLS playlists left open for a splice window (FlowContinueDuration), kept across restarts.
  `CREATE TABLE open_playlists (
     splice_key TEXT PRIMARY KEY,
     body TEXT NOT NULL,
     deadline_ms INTEGER NOT NULL
   );`,
  // 3: retention, search and callbacks (templates, rules and the durable delivery outbox).
  `ALTER TABLE recordings ADD COLUMN expires_ms INTEGER NOT NULL DEFAULT 0;
   ALTER TABLE recordings ADD COLUMN meta TEXT NOT NULL DEFAULT '{}';
   CREATE INDEX recordings_by_expiry ON recordings (expires_ms) WHERE expires_ms > 0;
   CREATE INDEX recordings_by_created ON recordings (created_ms);
   CREATE TABLE callback_templates (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     body TEXT NOT NULL,
     created_ms INTEGER NOT NULL,
     updated_ms INTEGER NOT NULL
   );
   CREATE TABLE callback_rules (
     domain TEXT NOT NULL,
     app TEXT NOT NULL,
     template_id INTEGER NOT NULL REFERENCES callback_templates(id),
     created_ms INTEGER NOT NULL,
     PRIMARY KEY (domain, app)
   );
   CREATE TABLE callback_outbox (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     url TEXT NOT NULL,
     callback_key TEXT NOT NULL,
     event_type INTEGER NOT NULL,
     body TEXT NOT NULL,
     file_id TEXT NOT NULL DEFAULT '',
     status TEXT NOT NULL DEFAULT 'pending',
     attempts INTEGER NOT NULL DEFAULT 0,
     next_attempt_ms INTEGER NOT NULL,
     last_error TEXT NOT NULL DEFAULT '',
     created_ms INTEGER NOT NULL,
     delivered_ms INTEGER NOT NULL DEFAULT 0
   );
   CREATE INDEX outbox_due ON callback_outbox (status, next_attempt_ms);`,
  // 4: object storage: where a file's object is (JSON, '' while only on local disk) and the
  // durable upload queue (a row per file still to upload; deleted when its object is verified).
  `ALTER TABLE recordings ADD COLUMN location TEXT NOT NULL DEFAULT '';
   CREATE TABLE upload_queue (
     file_id TEXT PRIMARY KEY REFERENCES recordings(file_id) ON DELETE CASCADE,
     attempts INTEGER NOT NULL DEFAULT 0,
     next_attempt_ms INTEGER NOT NULL,
     last_error TEXT NOT NULL DEFAULT '',
     queued_ms INTEGER NOT NULL
   );
   CREATE INDEX upload_queue_due ON upload_queue (next_attempt_ms);`,
  // 5: a queued file's state ('pending': to upload; 'uploaded': stored, its callback not yet queued;
  // 'failed': cannot ever succeed, kept for the operator) and its StorageMode.
  `ALTER TABLE upload_queue ADD COLUMN status TEXT NOT NULL DEFAULT 'pending';
   ALTER TABLE upload_queue ADD COLUMN storage_mode TEXT NOT NULL DEFAULT 'normal';`,
];

/** spec §2.3: rule times are Beijing time strings ("YYYY-MM-DD HH:mm:ss", UTC+8). */
export function beijingTime(ms: number): string {
  return new Date(ms + 8 * 3_600_000).toISOString().slice(0, 19).replace("T", " ");
}

/** The schema version applied to `db`. */
export function schemaVersion(db: Database.Database): number {
  return (db.prepare("SELECT COALESCE(MAX(version), 0) AS v FROM schema_migrations").get() as { v: number }).v;
}

function migrate(db: Database.Database): void {
  db.exec("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_ms INTEGER NOT NULL)");
  const current = schemaVersion(db);
  if (current > MIGRATIONS.length) {
    throw new Error(`catalog schema version ${current} is newer than this build knows (${MIGRATIONS.length})`);
  }
  for (let v = current + 1; v <= MIGRATIONS.length; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v - 1]!);
      db.prepare("INSERT INTO schema_migrations (version, applied_ms) VALUES (?, ?)").run(v, Date.now());
    })();
  }
}

/** Opens (creating if needed) the catalog file and applies pending migrations. */
export function openCatalogDatabase(file: string): Database.Database {
  try {
    if (file !== ":memory:") mkdirSync(dirname(file), { recursive: true });
    const db = new Database(file);
    db.pragma("journal_mode = WAL");
    db.pragma("synchronous = NORMAL");
    db.pragma("foreign_keys = ON");
    db.pragma("busy_timeout = 5000");
    migrate(db);
    // Lets the outbox group and filter deliveries by host inside SQLite (registered on this connection).
    db.function("callback_host", { deterministic: true }, (url: unknown) => (typeof url === "string" ? hostOf(url) : ""));
    return db;
  } catch (err) {
    throw new StorageError("CATALOG_OPEN_FAILED", `cannot open the catalog ${file}: ${(err as Error).message}`, { cause: err, fatal: true });
  }
}
