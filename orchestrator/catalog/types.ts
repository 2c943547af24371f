/**
 * The catalog: everything the service must not forget across restarts
 * (templates, rules, tasks, and every finished recording file). One small
 * async interface, so a PostgreSQL implementation can replace SQLite.
 */
import type { OutputFormat } from "../../engine/mux/types.js";
import type { MediaDescription } from "../../engine/pipeline/types.js";
import type { HlsPlaylistState } from "../../engine/splice/hls-state.js";
import type { RecordRule, RecordRuleInput } from "../rules/types.js";
import type { RecordTask } from "../tasks/types.js";
import type { RecordTemplate, RecordTemplateInput } from "../templates/types.js";

/** One finished recording file, as indexed. */
export interface RecordingFile {
  /** Stable id of the file (the callback's file_id, the receiver's idempotency key). */
  fileId: string;
  /** The recording (push x template or task) the file belongs to. */
  recordingId: string;
  domain: string;
  app: string;
  stream: string;
  format: OutputFormat;
  /** Path relative to the data folder. */
  path: string;
  startMs: number;
  endMs: number;
  durationSec: number;
  sizeBytes: number;
  /** "" when the recording came from a template rule. */
  taskId: string;
  /** 0 when the recording used the config's default template. */
  templateId: number;
  /** The publisher's query string; "" for task recordings (spec §4.4). */
  streamParam: string;
  createdMs: number;
  /** When the retention sweeper deletes the file (StorageTime); 0 = never. */
  expiresMs: number;
  /** Stream timestamp (ms) of the file's first frame. */
  mediaStartMs: number;
  media: MediaDescription;
}

export interface TaskQuery {
  startTime?: number;
  endTime?: number;
  domain?: string;
  app?: string;
  stream?: string;
  /** Include tasks deleted with DeleteRecordTask. */
  includeDeleted?: boolean;
}

export interface RecordingSearch {
  fileIds?: readonly string[];
  streams?: readonly string[];
  domains?: readonly string[];
  apps?: readonly string[];
  formats?: readonly RecordingFile["format"][];
  createdAfterMs?: number;
  createdBeforeMs?: number;
  order: "Asc" | "Desc";
  offset: number;
  limit: number;
}

export interface StoredTask extends RecordTask {
  deleted: boolean;
}

/** An HLS playlist left open after a push, waiting for the stream to come back (splicing). */
export interface OpenPlaylist {
  /** domain/app/stream plus what recorded it (the template rule or a task). */
  spliceKey: string;
  /** Wall clock (ms) after which the playlist is closed with ENDLIST. */
  deadlineMs: number;
  state: HlsPlaylistState;
  /** What the catalog row and the notification of the final file carry. */
  file: Pick<RecordingFile, "recordingId" | "domain" | "app" | "stream" | "taskId" | "templateId" | "streamParam"> & { storageTimeSec: number };
}

export interface Catalog {
  /** Inserts unless `maxTemplates` already exist; returns undefined then. */
  insertTemplate(t: RecordTemplateInput, maxTemplates: number): Promise<RecordTemplate | undefined>;
  updateTemplate(t: RecordTemplate): Promise<boolean>;
  /** Deletes unless a rule uses it: "deleted" | "not-found" | "in-use". */
  deleteTemplate(id: number): Promise<"deleted" | "not-found" | "in-use">;
  getTemplate(id: number): Promise<RecordTemplate | undefined>;
  listTemplates(): Promise<RecordTemplate[]>;

  /** "exists" when a rule with the same domain/app/stream exists, "limit" when `maxRules` exist. */
  insertRule(r: RecordRuleInput, maxRules: number, nowMs: number): Promise<RecordRule | "exists" | "limit">;
  deleteRule(key: Pick<RecordRule, "DomainName" | "AppName" | "StreamName">): Promise<boolean>;
  listRules(): Promise<RecordRule[]>;

  /**
   * Inserts unless `maxOverlapping` non-stopped, non-deleted tasks of the same stream
   * already overlap its window; returns false then.
   */
  insertTask(t: RecordTask, maxOverlapping: number): Promise<boolean>;
  getTask(taskId: string): Promise<StoredTask | undefined>;
  stopTask(taskId: string, stoppedSec: number): Promise<boolean>;
  deleteTask(taskId: string): Promise<boolean>;
  listTasks(q: TaskQuery): Promise<StoredTask[]>;
  /** Tasks that may still record: not stopped, not deleted, ending after `nowSec`. */
  pendingOrRunningTasks(nowSec: number): Promise<StoredTask[]>;

  insertRecording(f: RecordingFile): Promise<void>;
  listRecordings(q: { domain?: string; app?: string; stream?: string }): Promise<RecordingFile[]>;
  /** Filtered, ordered by creation time, paged; `total` counts every match. */
  searchRecordings(q: RecordingSearch): Promise<{ total: number; files: RecordingFile[] }>;
  /** Files whose StorageTime has passed, oldest expiry first. */
  expiredRecordings(nowMs: number, limit: number): Promise<RecordingFile[]>;
  deleteRecording(fileId: string): Promise<boolean>;

  saveOpenPlaylist(p: OpenPlaylist): Promise<void>;
  /** Removes and returns the open playlist of `spliceKey`, if any. */
  takeOpenPlaylist(spliceKey: string): Promise<OpenPlaylist | undefined>;
  listOpenPlaylists(): Promise<OpenPlaylist[]>;

  close(): Promise<void>;
}
