/**
 * The HLS recording of one push: .ts segments cut by ffmpeg, a playlist the
 * engine owns. Segments are moved into a folder reserved for the playlist as
 * they close, and the in-progress playlist (EVENT, no ENDLIST) is rewritten
 * atomically after each one, so it is valid whenever an operator reads it.
 * At the end of the push the playlist is either closed (VOD + ENDLIST under
 * its final name) or, with a splice window, handed back open so a later push
 * can continue it after an EXT-X-DISCONTINUITY.
 *
 * Not a RecordingOutput of its own: the .ts segments are cut by the same
 * ffmpeg process that writes the recording's MP4 and AAC (one process per
 * recording, not per format), so RemuxOutput feeds this writer the segment
 * reports of each of its jobs, in order.
 */
import { rename, stat } from "node:fs/promises";
import { join } from "node:path";
import { StorageError, errorMessage } from "../errors.js";
import type { HlsSegmentReport } from "../ffmpeg/ffmpeg-remux-job.js";
import { finalizePlaylist, type HlsPlaylistState, reserveSegmentFolder, segmentPath, writeLivePlaylist } from "../splice/hls-state.js";
import type { OutputHost } from "./output-host.js";

export class HlsPlaylistWriter {
  /** Reports of ffmpeg jobs that started after the one still running, held to keep segment order. */
  private readonly jobs: { done: boolean; reports: HlsSegmentReport[]; lastEndSec: number }[] = [];
  private head = 0;
  private chain: Promise<void> = Promise.resolve();
  private state: HlsPlaylistState | undefined;
  /** The first segment of this push follows an earlier push's segments. */
  private discontinuityPending: boolean;

  /** @param resume an open playlist of an earlier push to continue (splicing), or none. */
  constructor(
    private readonly host: OutputHost,
    resume?: HlsPlaylistState,
  ) {
    this.state = resume && { ...resume, segments: [...resume.segments] };
    this.discontinuityPending = resume !== undefined;
  }

  /**
   * Registers a new ffmpeg job whose first frame has this presentation time
   * (s); returns its index for `segment` and `jobDone`.
   */
  addJob(firstPtsSec: number): number {
    this.jobs.push({ done: false, reports: [], lastEndSec: firstPtsSec });
    return this.jobs.length - 1;
  }

  /** A .ts file of job `job` is complete. */
  segment(job: number, report: HlsSegmentReport): void {
    this.jobs[job]!.reports.push(report);
    this.drain();
  }

  /** Job `job` has exited: its segments are all reported. */
  jobDone(job: number): void {
    this.jobs[job]!.done = true;
    this.drain();
  }

  /**
   * The push ended and every job is done. With `keepOpen`, returns the open
   * playlist for a later push to continue; otherwise publishes the VOD playlist.
   */
  async finish(keepOpen: boolean): Promise<HlsPlaylistState | undefined> {
    await this.chain;
    const state = this.state;
    if (!state) return undefined;
    if (keepOpen) return state;
    try {
      // Named by the playlist's own settings (it may be continued from an earlier push), reported as this recording's.
      await finalizePlaylist(state, this.host.files);
    } catch (err) {
      this.host.failed(new StorageError("HLS_CLOSE_FAILED", `writing the HLS playlist failed: ${errorMessage(err)}`, { cause: err }));
    }
    return undefined;
  }

  private drain(): void {
    while (this.head < this.jobs.length) {
      const job = this.jobs[this.head]!;
      for (const report of job.reports.splice(0)) {
        // ffmpeg's end times are exact presentation times; its start time of a job's first segment is not.
        const durationSec = Math.max(0, report.endSec - job.lastEndSec);
        job.lastEndSec = report.endSec;
        this.chain = this.chain.then(() => this.append(report, durationSec));
      }
      if (!job.done) return;
      this.head++;
    }
  }

  private async open(): Promise<HlsPlaylistState> {
    const { target, settings } = this.host;
    const startMs = this.host.wallForTimestamp(this.host.firstTimestamp() ?? 0);
    const folder = await reserveSegmentFolder(target.directory, target.stream, startMs, settings.utcOffsetMinutes);
    return {
      directory: target.directory,
      folder,
      livePath: join(target.inProgressDirectory, `${target.id}.m3u8`),
      streamId: target.stream,
      vodFileName: settings.formats.hls.vodFileName ?? "",
      utcOffsetMinutes: settings.utcOffsetMinutes,
      startMs,
      endMs: startMs,
      mediaStartMs: this.host.firstTimestamp() ?? 0,
      media: this.host.mediaDescription(),
      sizeBytes: 0,
      segments: [],
      liveTargetSec: settings.hlsSegmentSeconds,
    };
  }

  private async append(report: HlsSegmentReport, durationSec: number): Promise<void> {
    try {
      this.state ??= await this.open();
      const state = this.state;
      const name = `${String(state.segments.length).padStart(6, "0")}.ts`;
      const dest = segmentPath(state, name);
      await rename(join(this.host.target.inProgressDirectory, report.file), dest);
      state.sizeBytes += (await stat(dest)).size;
      state.segments.push({ uri: `${state.folder}/${name}`, durationSec, discontinuity: this.discontinuityPending && state.segments.length > 0 });
      this.discontinuityPending = false;
      state.endMs = Math.max(state.endMs, this.host.wallForTimestamp(Math.round(report.endSec * 1000)));
      // RFC 8216 asks a growing playlist to keep its target duration; it grows only if a segment outruns it.
      state.liveTargetSec = Math.max(state.liveTargetSec, Math.round(durationSec));
      await writeLivePlaylist(state);
    } catch (err) {
      this.host.failed(new StorageError("HLS_SEGMENT_FAILED", `adding HLS segment ${report.file} failed: ${errorMessage(err)}`, { cause: err }));
    }
  }
}
