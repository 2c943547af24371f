/**
 * Splice windows (spec §1.3 FlowContinueDuration): when a push ends, its HLS
 * playlist stays open, in the catalog, for the window; a new push of the same
 * stream (and recorder) within it continues the playlist after an
 * EXT-X-DISCONTINUITY, even across a restart. When the window passes, the
 * playlist closes: ENDLIST, final name, catalog row, one notification.
 */
import { errorMessage } from "../../engine/errors.js";
import type { Logger } from "../../engine/logger.js";
import type { RecordingSettings } from "../../engine/pipeline/types.js";
import { finalizePlaylist, type HlsPlaylistState } from "../../engine/splice/hls-state.js";
import type { FileIndexer } from "../catalog/file-indexer.js";
import type { Catalog, OpenPlaylist } from "../catalog/types.js";

/** Which open playlist a new push continues: same stream, same recorder (the rule's template, or the same task). */
export function spliceKey(push: { domain: string; app: string; stream: string }, taskId: string): string {
  return `${push.domain}/${push.app}/${push.stream}#${taskId || "rule"}`;
}

export class SpliceWindows {
  /** Timers that close open playlists when their window passes. */
  private readonly timers = new Map<string, NodeJS.Timeout>();
  /** Recordings of a splice key still closing: a quick re-publish waits for their playlist. */
  private readonly closingByKey = new Map<string, Promise<void>>();
  /** Work under way (saving, closing), for stop() to wait for. */
  private readonly work = new Set<Promise<void>>();
  private stopped = false;

  constructor(
    private readonly catalog: Catalog,
    private readonly indexer: FileIndexer,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  /** A recording of `key` is closing (its playlist may be kept open): a new push waits for `work` first. */
  closingRecording(key: string, work: Promise<void>): void {
    this.closingByKey.set(key, work);
    void work.finally(() => {
      if (this.closingByKey.get(key) === work) this.closingByKey.delete(key);
    });
  }

  /** An open playlist of `key` whose window has not passed, taken for a new push (undefined: start a new one). */
  async take(key: string, settings: RecordingSettings): Promise<OpenPlaylist | undefined> {
    if (!settings.formats.hls.enabled || settings.hlsFlowContinueSec <= 0) return undefined;
    await this.closingByKey.get(key);
    const open = await this.catalog.takeOpenPlaylist(key);
    if (!open) return undefined;
    clearTimeout(this.timers.get(key));
    this.timers.delete(key);
    if (this.now() > open.deadlineMs) {
      await this.close(open);
      return undefined;
    }
    return open;
  }

  /** An open playlist taken for a push that could not use it goes back to waiting (or closes, if its window passed). */
  handBack(open: OpenPlaylist): Promise<void> {
    return this.track(this.doHandBack(open));
  }

  /** The push ended inside a splice window: the playlist waits, in the catalog, for the stream to come back. */
  keepOpen(key: string, state: HlsPlaylistState, windowSec: number, file: OpenPlaylist["file"]): Promise<void> {
    return this.track(this.doKeepOpen(key, state, windowSec, file));
  }

  private async doHandBack(open: OpenPlaylist): Promise<void> {
    if (this.now() >= open.deadlineMs) return this.close(open);
    try {
      await this.catalog.saveOpenPlaylist(open);
      this.schedule(open);
    } catch (err) {
      this.logger.error("cannot keep the HLS playlist open; closing it now", { key: open.spliceKey, error: errorMessage(err) });
      await this.close(open);
    }
  }

  private async doKeepOpen(key: string, state: HlsPlaylistState, windowSec: number, file: OpenPlaylist["file"]): Promise<void> {
    const open: OpenPlaylist = { spliceKey: key, deadlineMs: this.now() + windowSec * 1000, state, file };
    try {
      await this.catalog.saveOpenPlaylist(open);
    } catch (err) {
      this.logger.error("cannot keep the HLS playlist open; closing it now", { key, error: errorMessage(err) });
      await this.close(open);
      return;
    }
    this.logger.info("HLS playlist kept open for a new push", { key, windowSec, segments: state.segments.length });
    this.schedule(open);
  }

  /** At start: close playlists whose window passed while the service was down; wait for the others. */
  async restore(): Promise<void> {
    for (const open of await this.catalog.listOpenPlaylists()) {
      if (this.now() >= open.deadlineMs) {
        await this.catalog.takeOpenPlaylist(open.spliceKey);
        await this.close(open);
      } else {
        this.schedule(open);
      }
    }
  }

  /** Waits for the work under way, then stops the timers (open playlists stay in the catalog for the next start). */
  async stop(): Promise<void> {
    while (this.work.size > 0) await Promise.all([...this.work]);
    this.stopped = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }

  /** Work stop() waits for; it never rejects (failures are logged). */
  private track(work: Promise<void>): Promise<void> {
    const safe = work.catch((err: unknown) => this.logger.error("splice window work failed", { error: errorMessage(err) }));
    this.work.add(safe);
    void safe.finally(() => this.work.delete(safe));
    return safe;
  }

  private schedule(open: OpenPlaylist): void {
    if (this.stopped) return;
    clearTimeout(this.timers.get(open.spliceKey));
    const timer = setTimeout(() => {
      this.timers.delete(open.spliceKey);
      void this.track(this.catalog.takeOpenPlaylist(open.spliceKey).then((current) => (current ? this.close(current) : undefined)));
    }, Math.max(0, open.deadlineMs - this.now()));
    this.timers.set(open.spliceKey, timer);
  }

  /** The window passed: ENDLIST, final name, catalog row, one notification. */
  private async close(open: OpenPlaylist): Promise<void> {
    try {
      const final = await finalizePlaylist(open.state);
      const { storageTimeSec, ...meta } = open.file;
      if (final) await this.indexer.index({ format: "hls", ...final, index: 0, mediaStartMs: open.state.mediaStartMs, media: open.state.media }, meta, storageTimeSec);
    } catch (err) {
      this.logger.error("closing an open HLS playlist failed", { key: open.spliceKey, error: errorMessage(err) });
    }
  }
}
