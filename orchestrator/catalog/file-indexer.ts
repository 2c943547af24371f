/**
 * The file indexer: a finished file (from a live recording, a closed splice
 * window or crash recovery) gets its catalog row, with its expiry from the
 * format's StorageTime, then is handed on (callback, the service's "file"
 * event). A catalog failure is logged: the file stays on disk, and the
 * notification still goes out.
 */
import { randomUUID } from "node:crypto";
import { relative } from "node:path";
import { errorMessage } from "../../engine/errors.js";
import type { Logger } from "../../engine/logger.js";
import type { RecoveredFile } from "../../engine/recovery/recovery.js";
import type { MediaDescription } from "../../engine/media-types.js";
import type { CompletedFile } from "../../engine/pipeline/types.js";
import type { FinishedFile } from "../../engine/segment/file-finisher.js";
import type { Catalog, RecordingFile } from "./types.js";

/** What a finished file's catalog row and notification carry besides the file itself. */
export type FileMeta = Pick<RecordingFile, "recordingId" | "domain" | "app" | "stream" | "taskId" | "templateId" | "streamParam">;

/** A finished file (engine/segment/file-finisher.ts) and what it holds: what the catalog row is made of. */
export type FileToIndex = FinishedFile & { media: MediaDescription };

/** The context a recording keeps in its journal, read back by crash recovery. */
export type JournalContext = Pick<FileMeta, "taskId" | "templateId" | "streamParam"> & { storageTimeSec: Partial<Record<RecordingFile["format"], number>> };

/** A file the indexer catalogued: the file as written, its meta and its catalog id. */
export type IndexedFile = CompletedFile & { fileId: string; taskId: string; templateId: number };

export class FileIndexer {
  constructor(
    private readonly catalog: Catalog,
    /** Catalog paths are relative to this folder. */
    private readonly dataDir: string,
    private readonly logger: Logger,
    /** Called once per file, after its row was written (or failed to be). */
    private readonly onIndexed: (row: RecordingFile, file: IndexedFile) => void,
    /** Files also enter the upload queue (object storage is configured). */
    private readonly queueUpload = false,
    private readonly now: () => number = Date.now,
  ) {}

  async index(file: FileToIndex, meta: FileMeta, storageTimeSec: number): Promise<void> {
    const fileId = randomUUID();
    const createdMs = this.now();
    this.logger.info("file complete", { recording: meta.recordingId, format: file.format, path: file.path, durationSec: file.durationSec, sizeBytes: file.sizeBytes });
    const row: RecordingFile = {
      ...meta,
      fileId,
      format: file.format,
      path: relative(this.dataDir, file.path),
      startMs: file.startMs,
      endMs: file.endMs,
      durationSec: file.durationSec,
      sizeBytes: file.sizeBytes,
      createdMs,
      expiresMs: storageTimeSec > 0 ? createdMs + storageTimeSec * 1000 : 0,
      mediaStartMs: file.mediaStartMs,
      media: file.media,
    };
    try {
      await this.catalog.insertRecording(row, this.queueUpload);
    } catch (err) {
      this.logger.error("cannot index a finished file in the catalog", { path: file.path, error: errorMessage(err) });
    }
    this.onIndexed(row, { ...file, ...meta, fileId });
  }

  /** A file crash recovery made whole, with the context its journal kept. */
  indexRecovered(f: RecoveredFile): Promise<void> {
    const ctx = f.context as Partial<JournalContext>;
    const meta: FileMeta = {
      recordingId: f.recordingId,
      domain: f.domain,
      app: f.app,
      stream: f.stream,
      taskId: ctx.taskId ?? "",
      templateId: ctx.templateId ?? 0,
      streamParam: ctx.streamParam ?? "",
    };
    return this.index({ ...f, index: 0, media: {} }, meta, ctx.storageTimeSec?.[f.format] ?? 0);
  }
}
