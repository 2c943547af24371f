/**
 * The uploader: takes finished files off the durable upload queue (in the
 * catalog) and puts them in the object store. For each file: upload (an HLS
 * playlist's segments first, then the playlist, so the playlist never names a
 * missing object), verify (the store checks size; the ETag is kept), record
 * the object in the catalog and take the file off the queue in one
 * transaction, then remove the local copy (unless `keepLocal`), then hand the
 * file on (its callback goes out only now, so a receiver never hears of an
 * object that is not there).
 *
 * A failed attempt (store unreachable, credentials, a full local disk…) is
 * retried with exponential backoff capped at `maxRetryMs`, for ever: the
 * queue is durable and recording goes on locally meanwhile, while /healthz
 * shows what waits. A crash mid-upload leaves the file queued (it is sent
 * again, whole) and at most a multipart upload, aborted at the next start.
 * Segments already stored with the right size are not sent again.
 */
import { readFile, rm, rmdir, stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import { errorMessage, RecorderError } from "../../engine/errors.js";
import type { Logger } from "../../engine/logger.js";
import type { Catalog, ObjectLocation, QueuedUpload, RecordingFile, StorageMode } from "../catalog/types.js";
import { contentTypeOf, pathUnderRecordings, playlistSegments } from "../media/recording-paths.js";
import type { ObjectStore } from "./types.js";

export interface UploaderOptions {
  catalog: Pick<Catalog, "dueUploads" | "markUploadFailed" | "failUpload" | "completeUpload" | "finishUpload">;
  store: ObjectStore;
  /** The recordings folder (catalog paths are "recordings/…" under the data folder). */
  recordingsDir: string;
  /** Keep the local copy after a verified upload. */
  keepLocal: boolean;
  /** Files uploaded at once. */
  concurrency: number;
  logger: Logger;
  /**
   * The file's object is stored and catalogued (and the local copy gone unless keepLocal): queue
   * its callback. The file leaves the queue once this resolves; after a crash before that, it is
   * called again (callbacks are at least once).
   */
  onUploaded: (file: RecordingFile) => Promise<void>;
  /** First retry after this; doubles per failed attempt. Default 2 s. */
  retryBaseMs?: number;
  /** Retries are never further apart than this. Default 5 min. */
  maxRetryMs?: number;
  /** How often the queue is looked at besides kick(). Default 1 s. */
  pollMs?: number;
  now?: () => number;
}

export class Uploader {
  private readonly inFlight = new Map<string, Promise<void>>();
  private readonly abort = new AbortController();
  private timer: NodeJS.Timeout | null = null;
  private filling = false;
  private refill = false;
  private stopped = false;
  private started = false;
  private readonly now: () => number;

  constructor(private readonly opts: UploaderOptions) {
    this.now = opts.now ?? Date.now;
  }

  /**
   * Aborts the multipart uploads an earlier run left (started before now), then starts taking the
   * queue. Not awaited by the service: a store that is down or hanging must not hold up its start.
   * No upload of this run starts before the clean-up is over, so none of its own is aborted.
   */
  async start(): Promise<void> {
    const { store, logger } = this.opts;
    try {
      const aborted = await store.abortStaleUploads(new Date(this.now()));
      if (aborted > 0) logger.info("storage: aborted uploads left by an earlier run", { store: store.description, aborted });
    } catch (err) {
      // Down right now: the queue's retries will find out; leftovers wait for the next start.
      if (!this.stopped) logger.warn("storage: cannot list unfinished uploads", { store: store.description, error: errorMessage(err) });
    }
    if (this.stopped) return;
    this.started = true;
    this.timer = setInterval(() => this.kick(), this.opts.pollMs ?? 1000);
    this.timer.unref();
    this.kick();
  }

  /** Looks at the queue now (a file was just queued). */
  kick(): void {
    if (this.stopped || !this.started) return;
    if (this.filling) {
      this.refill = true;
      return;
    }
    this.filling = true;
    void this.fill()
      .catch((err: unknown) => this.opts.logger.error("storage: cannot read the upload queue", { error: errorMessage(err) }))
      .finally(() => {
        this.filling = false;
        if (this.refill) {
          this.refill = false;
          this.kick();
        }
      });
  }

  private async fill(): Promise<void> {
    const free = this.opts.concurrency - this.inFlight.size;
    if (free <= 0) return;
    const due = await this.opts.catalog.dueUploads(this.now(), free, [...this.inFlight.keys()]);
    for (const item of due) {
      if (this.stopped || this.inFlight.has(item.file.fileId)) continue;
      const run = this.upload(item)
        .catch((err: unknown) => this.opts.logger.error("storage: cannot record an upload's outcome", { fileId: item.file.fileId, error: errorMessage(err) }))
        .finally(() => {
          this.inFlight.delete(item.file.fileId);
          this.kick();
        });
      this.inFlight.set(item.file.fileId, run);
    }
  }

  /** Stops taking files; uploads in flight are aborted (they stay queued for the next start). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.abort.abort();
    // Not the leftovers' listing: a hanging store would hold the stop up; closing the store ends it.
    await Promise.allSettled(this.inFlight.values());
  }

  /**
   * Stores a pending file, then hands it on; a file stored before a restart is only handed on.
   * A failure while handing on (the object is stored and recorded) leaves it "uploaded": it is
   * handed on again, never uploaded again nor taken back.
   */
  private async upload(item: QueuedUpload): Promise<void> {
    const relative = pathUnderRecordings(item.file.path);
    const local = join(this.opts.recordingsDir, ...relative.split("/"));
    if (item.status === "uploaded") {
      const text = item.file.format === "hls" ? await readFile(local, "utf8").catch(() => "") : "";
      await this.handOn(item.file, relative, playlistSegments(text, relative));
      return;
    }
    const stored = await this.store(item, relative, local);
    if (stored) await this.handOn(stored.file, relative, stored.segments);
  }

  /** Uploads and records a pending file; undefined when it failed (retry or parked) or was deleted meanwhile. */
  private async store(item: QueuedUpload, relative: string, local: string): Promise<{ file: RecordingFile; segments: string[] } | undefined> {
    const { file } = item;
    const { store, logger } = this.opts;
    /** Keys this attempt stored: taken back out if the file was deleted meanwhile. */
    const sent: string[] = [];
    try {
      const segments = file.format === "hls" ? playlistSegments(await readFile(local, "utf8"), relative) : [];
      for (const segment of segments) sent.push((await this.putOnce(segment, item.storageMode, true)).key);
      const stored = await this.putOnce(relative, item.storageMode, false);
      sent.push(stored.key);
      const location: ObjectLocation = { store: store.description, ...stored };
      if (!(await this.opts.catalog.completeUpload(file.fileId, location))) {
        await this.takeBack(file, sent);
        return undefined;
      }
      logger.info("storage: file uploaded", { fileId: file.fileId, key: location.key, sizeBytes: location.size, segments: segments.length });
      return { file: { ...file, location }, segments };
    } catch (err) {
      if (this.stopped) return undefined;
      if (isPermanent(err)) {
        logger.error("storage: file cannot be uploaded, left for the operator", { fileId: file.fileId, path: file.path, error: errorMessage(err) });
        if (!(await this.opts.catalog.failUpload(file.fileId, errorMessage(err)))) await this.takeBack(file, sent);
        return undefined;
      }
      const delay = Math.min(this.opts.maxRetryMs ?? 300_000, (this.opts.retryBaseMs ?? 2000) * 2 ** Math.min(item.attempts, 20));
      logger.warn("storage: upload failed, will retry", { fileId: file.fileId, path: file.path, attempt: item.attempts + 1, retryInMs: delay, error: errorMessage(err) });
      if (!(await this.opts.catalog.markUploadFailed(file.fileId, errorMessage(err), this.now() + delay))) await this.takeBack(file, sent);
      return undefined;
    }
  }

  /** Removes the local copy (unless keepLocal), queues the callback, then takes the file off the queue. */
  private async handOn(file: RecordingFile, relative: string, segments: string[]): Promise<void> {
    if (!this.opts.keepLocal) {
      await this.removeLocal(relative, segments).catch((err: unknown) =>
        this.opts.logger.warn("storage: cannot remove the uploaded local copy", { fileId: file.fileId, error: errorMessage(err) }),
      );
    }
    await this.opts.onUploaded(file);
    await this.opts.catalog.finishUpload(file.fileId);
  }

  /** The file was deleted (DeleteMedia, retention) while it was being uploaded: its objects go too. */
  private async takeBack(file: RecordingFile, keys: string[]): Promise<void> {
    if (keys.length === 0) return;
    this.opts.logger.info("storage: file deleted while uploading, deleting its objects", { fileId: file.fileId, objects: keys.length });
    await this.opts.store.deleteKeys(keys).catch((err: unknown) => this.opts.logger.error("storage: cannot delete the objects of a deleted file", { fileId: file.fileId, error: errorMessage(err) }));
  }

  /**
   * Uploads one file by its path under recordings/. A segment already stored whole (same size)
   * is not sent again: an upload retried after a crash or an outage resumes where it stopped.
   */
  private async putOnce(relative: string, storageMode: StorageMode, skipIfStored: boolean): Promise<Omit<ObjectLocation, "store">> {
    const { store } = this.opts;
    const key = store.keyFor(relative);
    const local = join(this.opts.recordingsDir, ...relative.split("/"));
    if (skipIfStored) {
      const [existing, st] = await Promise.all([store.head(key), stat(local).catch(() => null)]);
      if (existing !== null && (st === null || st.size === existing.size)) return existing;
    }
    const contentType = contentTypeOf(relative) ?? "application/octet-stream";
    const stored = await store.putFile(key, local, { contentType, storageClass: storageMode, signal: this.abort.signal });
    return { key: stored.key, size: stored.size, etag: stored.etag, storageClass: stored.storageClass };
  }

  /**
   * Removes the uploaded local files, then segment folders left empty (never the stream's
   * folder: a new recording may be about to write into it).
   */
  private async removeLocal(relative: string, segments: string[]): Promise<void> {
    const local = (r: string): string => join(this.opts.recordingsDir, ...r.split("/"));
    for (const r of [...segments, relative]) await rm(local(r), { force: true });
    for (const folder of new Set(segments.map((s) => dirname(local(s))))) await rmdir(folder).catch(() => undefined);
  }
}

/** Failures no retry can mend: the local file is gone, the key or the storage class is refused. */
const PERMANENT_CODES = new Set(["ENOENT", "STORAGE_BAD_KEY", "STORAGE_NO_COLD_CLASS", "STORAGE_BAD_STORAGE_CLASS"]);

function isPermanent(err: unknown): boolean {
  for (let e: unknown = err; e instanceof Error; e = e.cause) {
    const code = e instanceof RecorderError ? e.code : (e as NodeJS.ErrnoException).code;
    if (code !== undefined && PERMANENT_CODES.has(code)) return true;
  }
  return false;
}
