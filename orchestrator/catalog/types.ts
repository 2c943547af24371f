/**
 * The catalog: everything the service must not forget across restarts
 * (recording templates, rules and tasks, every finished recording file, open
 * HLS playlists, callback templates and rules, the callback outbox). One
 * async interface, so a PostgreSQL implementation can replace SQLite. It
 * stores and reports; the policy (limits' error codes, merging, which target
 * applies) lives in the control services.
 */
import type { OutputFormat } from "../../engine/mux/types.js";
import type { MediaDescription } from "../../engine/media-types.js";
import type { HlsPlaylistState } from "../../engine/splice/hls-state.js";
import type {
  CallbackRule,
  CallbackRuleInput,
  CallbackTemplate,
  CallbackTemplateInput,
  DeliveryCounts,
  DeliveryStatus,
  DueDelivery,
  OutboxEntry,
  OutboxEvent,
} from "../callbacks/types.js";
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
  /** Where the file's object is, once uploaded and verified; absent while it is only on local disk. */
  location?: ObjectLocation;
}

/** A recording file's object in object storage (an HLS playlist's segments sit beside it under the same prefix). */
export interface ObjectLocation {
  /** The target, as `ObjectStore.description` gives it ("s3://bucket/prefix"). */
  store: string;
  key: string;
  size: number;
  etag: string;
  storageClass: string;
}

/** spec §1.2 StorageMode: the storage class an uploaded file is stored in. */
export type StorageMode = "normal" | "cold";

/** A file in the upload queue: to upload ("pending"), or stored with its callback not yet queued ("uploaded"). */
export interface QueuedUpload {
  file: RecordingFile;
  status: "pending" | "uploaded";
  storageMode: StorageMode;
  attempts: number;
  queuedMs: number;
}

/** What the upload queue holds, for /healthz and /status. */
export interface UploadQueueStats {
  /** Files waiting to be uploaded. */
  files: number;
  bytes: number;
  /** Files that can never be uploaded (their local file is gone, a key is refused…): kept for the operator, see the log. */
  failed: number;
  /** When the longest-waiting file was queued; 0 when the queue is empty. */
  oldestQueuedMs: number;
  /** The newest failed attempt's error ("" when none failed). */
  lastError: string;
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

export interface DueOptions {
  /** Rows not to return (being sent right now). */
  excludeIds?: readonly number[];
  /** Hosts (as `hostOf` gives them) not to return (at their concurrency cap). */
  excludeHosts?: readonly string[];
  /** At most this many rows per host, so one backlogged host cannot fill `limit`. */
  perHost?: number;
}

/** Callback templates, rules (spec §4) and the durable delivery outbox. */
export interface CallbackCatalog {
  /** Inserts unless `maxTemplates` already exist; returns undefined then. */
  insertCallbackTemplate(t: CallbackTemplateInput, maxTemplates: number, nowMs: number): Promise<CallbackTemplate | undefined>;
  /** Replaces the stored template; false when there is none with that id. */
  updateCallbackTemplate(t: CallbackTemplate, nowMs: number): Promise<boolean>;
  /** Deletes unless a rule binds it (then that rule's domain/app). */
  deleteCallbackTemplate(id: number): Promise<"deleted" | "not-found" | { boundBy: { domain: string; app: string } }>;
  getCallbackTemplate(id: number): Promise<CallbackTemplate | undefined>;
  listCallbackTemplates(): Promise<CallbackTemplate[]>;

  /** "no-template" when the template does not exist, "exists" for a duplicate (domain, app), "limit" at `maxRules`. */
  insertCallbackRule(r: CallbackRuleInput, maxRules: number, nowMs: number): Promise<CallbackRule | "no-template" | "exists" | "limit">;
  /** Exact match: AppName "" deletes only the rule stored with "". */
  deleteCallbackRule(key: { DomainName: string; AppName: string }): Promise<boolean>;
  listCallbackRules(): Promise<CallbackRule[]>;
  /**
   * The template of the rule that applies to a stream on (domain, app): the rule for (domain, app)
   * beats the rule for (domain, ""); undefined when no rule applies. Domain compares lowercased.
   */
  matchCallbackTemplate(domain: string, app: string): Promise<CallbackTemplate | undefined>;

  /** Stores the event for delivery (due at `nowMs`); returns its id. Durable when this resolves. */
  enqueueCallback(e: OutboxEvent, nowMs: number): Promise<number>;
  /** Pending rows due at `nowMs`, oldest due first, with their keys (for the dispatcher). */
  dueCallbacks(nowMs: number, limit: number, opts?: DueOptions): Promise<DueDelivery[]>;
  /** Counts the successful attempt; the attempts made, or undefined if the row is not pending. */
  markCallbackDelivered(id: number, nowMs: number): Promise<number | undefined>;
  /**
   * Counts a failed attempt. `maxAttempts` is the total number of attempts (first try included): when
   * attempts reach it the row becomes 'failed', otherwise it stays pending until `nextAttemptMs`.
   * The new state, or undefined if the row is not pending.
   */
  markCallbackFailed(id: number, error: string, nextAttemptMs: number, maxAttempts: number): Promise<{ attempts: number; status: DeliveryStatus } | undefined>;
  /** Newest first; never includes the callback key. */
  listCallbacks(q: { status?: DeliveryStatus; offset: number; limit: number }): Promise<{ totalCount: number; rows: OutboxEntry[] }>;
  /** One row without its key. */
  getCallback(id: number): Promise<OutboxEntry | undefined>;
  /**
   * Sends a delivery again: a 'failed' one goes back to pending with attempts 0 (a full new round),
   * due now; a 'pending' one is made due now (attempts kept). "delivered" rows are left alone.
   */
  retryCallback(id: number, nowMs: number): Promise<OutboxEntry | "not-found" | "delivered">;
  callbackCounts(): Promise<DeliveryCounts>;
}

export interface Catalog extends CallbackCatalog {
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

  /** With `upload`, the file also enters the upload queue, in the same transaction. */
  insertRecording(f: RecordingFile, upload?: { storageMode: StorageMode }): Promise<void>;
  /** Whether a catalogued file has this path (relative to the data folder). */
  hasRecordingAt(path: string): Promise<boolean>;
  listRecordings(q: { domain?: string; app?: string; stream?: string }): Promise<RecordingFile[]>;
  /** Filtered, ordered by creation time, paged; `total` counts every match. */
  searchRecordings(q: RecordingSearch): Promise<{ total: number; files: RecordingFile[] }>;
  /** Files whose StorageTime has passed, oldest expiry first. */
  expiredRecordings(nowMs: number, limit: number): Promise<RecordingFile[]>;
  /** Deletes the row (and its upload queue entry) and returns it as it was at that moment; undefined when there was none. */
  deleteRecording(fileId: string): Promise<RecordingFile | undefined>;

  /** Queued files due at `nowMs` ("uploaded" ones always are), the longest waiting first, except `excludeIds`. */
  dueUploads(nowMs: number, limit: number, excludeIds: readonly string[]): Promise<QueuedUpload[]>;
  /** Counts a failed attempt; the file is tried again at `nextAttemptMs`. False when the file is gone (deleted meanwhile). */
  markUploadFailed(fileId: string, error: string, nextAttemptMs: number): Promise<boolean>;
  /** The file can never be uploaded: it stays queued as "failed" (not retried), for the operator. False when the file is gone. */
  failUpload(fileId: string, error: string): Promise<boolean>;
  /** Records the verified object and marks the file "uploaded", in one transaction; false when the file is gone. */
  completeUpload(fileId: string, location: ObjectLocation): Promise<boolean>;
  /** The uploaded file's callback is queued: it leaves the queue. */
  finishUpload(fileId: string): Promise<void>;
  uploadQueueStats(): Promise<UploadQueueStats>;

  saveOpenPlaylist(p: OpenPlaylist): Promise<void>;
  /** Removes and returns the open playlist of `spliceKey`, if any. */
  takeOpenPlaylist(spliceKey: string): Promise<OpenPlaylist | undefined>;
  listOpenPlaylists(): Promise<OpenPlaylist[]>;

  close(): Promise<void>;
}
