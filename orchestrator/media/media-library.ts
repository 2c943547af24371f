/**
 * Recordings as a media library: VOD-style answers over the catalog
 * (SearchMedia, DescribeMediaInfos, DeleteMedia), the URLs files are served
 * at, and the retention sweeper (StorageTime).
 */
import { readFile, rm } from "node:fs/promises";
import { dirname, join, resolve, sep } from "node:path";
import { StorageError, errorMessage } from "../../engine/errors.js";
import type { Logger } from "../../engine/logger.js";
import { ApiError } from "../control/api-error.js";
import type { Catalog, ObjectLocation, RecordingFile, RecordingSearch } from "../catalog/types.js";
import { readObject } from "../storage/read-object.js";
import type { ObjectStore } from "../storage/types.js";
import { pathUnderRecordings, playlistSegments } from "./recording-paths.js";
import { SEARCH_WINDOW } from "./media-schema.js";
import type { RecordingUrlSigner } from "./recording-url-signer.js";

/** URL path under which recordings are served (relative to the data folder's recordings/). */
export const RECORDINGS_URL_PREFIX = "/recordings/";
const NEVER = "9999-12-31T23:59:59Z";
const FORMAT_CONTAINER: Record<RecordingFile["format"], string> = { flv: "flv", mp4: "mp4", hls: "m3u8", aac: "aac" };

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");

export class MediaLibrary {
  constructor(
    private readonly catalog: Catalog,
    private readonly dataDir: string,
    /** Base URL files are served from, e.g. http://127.0.0.1:8080 (no trailing slash). */
    private readonly publicUrl: () => string,
    private readonly logger: Logger,
    /** Signs the URLs issued (recordings.access "signed"); none: public URLs. */
    private readonly signer?: RecordingUrlSigner,
    /** Where uploaded files are (storage.url); their objects are deleted with them. */
    private readonly store?: ObjectStore,
  ) {}

  /** Where a catalogued file can be fetched or played (signed, valid recordings.urlValiditySec from now, when access is signed). */
  urlOf(file: Pick<RecordingFile, "path">): string {
    const components = file.path.split(sep).slice(1);
    const url = `${this.publicUrl()}${RECORDINGS_URL_PREFIX}${components.map(encodeURIComponent).join("/")}`;
    return this.signer ? `${url}?${this.signer.query(components.join("/"))}` : url;
  }

  /** spec §9 MediaInfo, for one catalogued file. */
  mediaInfo(f: RecordingFile): Record<string, unknown> {
    const container = FORMAT_CONTAINER[f.format];
    // An AAC file holds only the audio of its stream.
    const video = f.format === "aac" ? undefined : f.media.videoCodec;
    return {
      FileId: f.fileId,
      BasicInfo: {
        Name: f.path.split(sep).pop()!.replace(/\.[^.]+$/, ""),
        Description: "",
        CreateTime: iso(f.createdMs),
        UpdateTime: iso(f.createdMs),
        ExpireTime: f.expiresMs > 0 ? iso(f.expiresMs) : NEVER,
        ClassId: 0,
        ClassName: "",
        ClassPath: "",
        CoverUrl: "",
        Type: container,
        MediaUrl: this.urlOf(f),
        SourceInfo: {
          SourceType: "Record",
          SourceContext: "",
          LiveRecordInfo: { Domain: f.domain, Path: f.app, StreamId: f.stream, RecordStartTime: iso(f.startMs), RecordEndTime: iso(f.endMs) },
        },
        StorageRegion: "local",
        TagSet: [],
        Vid: "",
        Category: f.format === "aac" ? "Audio" : "Video",
        Status: "Normal",
        StorageClass: "STANDARD",
      },
      MetaData: {
        Size: f.sizeBytes,
        Container: container,
        Duration: f.durationSec,
        Width: video ? (f.media.width ?? 0) : 0,
        Height: video ? (f.media.height ?? 0) : 0,
        VideoStreamSet: video ? [{ Codec: video, Width: f.media.width ?? 0, Height: f.media.height ?? 0 }] : [],
        AudioStreamSet: f.media.audioCodec ? [{ Codec: f.media.audioCodec }] : [],
      },
    };
  }

  async search(q: RecordingSearch): Promise<{ TotalCount: number; MediaInfoSet: Record<string, unknown>[] }> {
    const { total, files } = await this.catalog.searchRecordings(q);
    return { TotalCount: Math.min(total, SEARCH_WINDOW), MediaInfoSet: files.map((f) => this.mediaInfo(f)) };
  }

  async describe(fileIds: string[]): Promise<{ MediaInfoSet: Record<string, unknown>[]; NotExistFileIdSet: string[] }> {
    const { files } = await this.catalog.searchRecordings({ fileIds, order: "Asc", offset: 0, limit: fileIds.length });
    const found = new Set(files.map((f) => f.fileId));
    return { MediaInfoSet: files.map((f) => this.mediaInfo(f)), NotExistFileIdSet: fileIds.filter((id) => !found.has(id)) };
  }

  async delete(fileId: string): Promise<Record<string, never>> {
    const { files } = await this.catalog.searchRecordings({ fileIds: [fileId], order: "Asc", offset: 0, limit: 1 });
    const file = files[0];
    if (!file) throw new ApiError("FailedOperation.NotFound", `no media with FileId ${fileId}`);
    await this.remove(file);
    return {};
  }

  /** Deletes a file (a playlist with its segment folder; its objects when uploaded) and then its catalog row. */
  private async remove(file: RecordingFile): Promise<void> {
    const root = resolve(this.dataDir, "recordings");
    const path = resolve(this.dataDir, file.path);
    if (!path.startsWith(root + sep)) throw new Error(`catalog path ${file.path} is outside the recordings folder`);
    // A playlist's segments live in a folder next to it, named by its (relative) URIs.
    const playlist = file.format === "hls" ? await readFile(path, "utf8").catch(() => undefined) : undefined;
    if (file.location) await this.removeObjects(file, file.location, playlist);
    const segmentFolders = new Set(playlistSegments(playlist ?? "", pathUnderRecordings(file.path)).map((s) => dirname(join(root, ...s.split("/")))));
    for (const folder of segmentFolders) await rm(folder, { recursive: true, force: true });
    await rm(path, { force: true });
    // An upload may have committed meanwhile: the row as deleted says where its objects went.
    const gone = await this.catalog.deleteRecording(file.fileId);
    if (gone?.location && !file.location) await this.removeObjects(gone, gone.location, playlist);
  }

  /** Deletes a file's object and, for a playlist, its segments' (listed by `playlist`, or read from the store). */
  private async removeObjects(file: RecordingFile, location: ObjectLocation, playlist: string | undefined): Promise<void> {
    const store = this.store;
    if (store === undefined || store.description !== location.store) {
      throw new ApiError("UnsupportedOperation", `file ${file.fileId} is stored in ${location.store}, which is not the storage configured now (storage.url)`);
    }
    const text = file.format === "hls" ? (playlist ?? (await readObjectText(store, location.key))) : "";
    const segments = playlistSegments(text, pathUnderRecordings(file.path)).map((s) => store.keyFor(s));
    // Segments first: if a batch fails, the playlist is still there to list them next time.
    await store.deleteKeys([...segments, location.key]);
  }

  /** Deletes every file whose StorageTime has passed. Open playlists and files in progress are not catalogued, so never touched. */
  async sweep(nowMs: number): Promise<number> {
    let removed = 0;
    // A file that cannot be deleted is skipped (and retried next sweep), never a wall for the others.
    const failed = new Set<string>();
    for (;;) {
      const batch = (await this.catalog.expiredRecordings(nowMs, 100 + failed.size)).filter((f) => !failed.has(f.fileId));
      if (batch.length === 0) return removed;
      for (const f of batch) {
        try {
          await this.remove(f);
          removed++;
          this.logger.info("retention: deleted an expired recording", { fileId: f.fileId, path: f.path });
        } catch (err) {
          failed.add(f.fileId);
          this.logger.error("retention: cannot delete an expired recording", { fileId: f.fileId, path: f.path, error: errorMessage(err) });
        }
      }
    }
  }
}

/** An object's bytes as text; "" when it is gone (nothing left to read segments from). */
async function readObjectText(store: ObjectStore, key: string): Promise<string> {
  try {
    return (await readObject(store, key)).toString("utf8");
  } catch (err) {
    if (err instanceof StorageError && err.code === "STORAGE_NOT_FOUND") return "";
    throw err;
  }
}
