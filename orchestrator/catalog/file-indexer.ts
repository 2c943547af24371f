/**
 * The file indexer: a finished file (from a live recording, a closed splice
 * window or crash recovery) gets its catalog row, with its expiry from the
 * format's StorageTime, then is handed on (callback, the service's "file"
 * event). A catalog failure is logged: the file stays on disk, and the
 * notification still goes out.
 */
import { randomUUID } from "node:crypto";
import { rename, stat } from "node:fs/promises";
import { extname, relative } from "node:path";
import { errorMessage } from "../../engine/errors.js";
import type { Logger } from "../../engine/logger.js";
import type { RecoveredFile } from "../../engine/recovery/recovery.js";
import type { MediaDescription } from "../../engine/media-types.js";
import type { CompletedFile } from "../../engine/pipeline/types.js";
import type { FinishedFile } from "../../engine/segment/file-finisher.js";
import { TEMPLATE_KEYS } from "../templates/recording-settings.js";
import type { Catalog, RecordingFile, StorageMode } from "./types.js";

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

  async index(finished: FileToIndex, meta: FileMeta, storageTimeSec: number): Promise<void> {
    const fileId = randomUUID();
    const createdMs = this.now();
    const file = this.queueUpload ? await this.withUnusedName(finished) : finished;
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
      await this.catalog.insertRecording(row, this.queueUpload ? { storageMode: await this.storageMode(meta.templateId, file.format) } : undefined);
    } catch (err) {
      this.logger.error("cannot index a finished file in the catalog", { path: file.path, error: errorMessage(err) });
    }
    this.onIndexed(row, { ...file, ...meta, fileId });
  }

  /**
   * With uploads, a file's local copy goes once uploaded, so the finisher no longer sees its name
   * taken: a later file could get the same name (a VodFileName without times) and so the same
   * object key, replacing the first recording. A name the catalog already has is moved to a free
   * one ("name_1.flv"; an HLS playlist alone: its segment URIs are relative).
   */
  private async withUnusedName(file: FileToIndex): Promise<FileToIndex> {
    const taken = async (p: string): Promise<boolean> => (await this.catalog.hasRecordingAt(relative(this.dataDir, p)).catch(() => false)) || (await stat(p).then(() => true, () => false));
    if (!(await this.catalog.hasRecordingAt(relative(this.dataDir, file.path)).catch(() => false))) return file;
    const ext = extname(file.path);
    const base = file.path.slice(0, file.path.length - ext.length);
    for (let n = 1; ; n++) {
      const candidate = `${base}_${n}${ext}`;
      if (await taken(candidate)) continue;
      try {
        await rename(file.path, candidate);
        return { ...file, path: candidate };
      } catch (err) {
        this.logger.error("cannot move a file off a name already catalogued", { path: file.path, error: errorMessage(err) });
        return file;
      }
    }
  }

  /** The template's StorageMode for the format ("normal" for the config's template, and when the template is gone). */
  private async storageMode(templateId: number, format: RecordingFile["format"]): Promise<StorageMode> {
    if (templateId === 0) return "normal";
    const template = await this.catalog.getTemplate(templateId).catch(() => undefined);
    return template?.[TEMPLATE_KEYS[format]].StorageMode === "cold" ? "cold" : "normal";
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
