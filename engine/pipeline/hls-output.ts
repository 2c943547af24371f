/**
 * The HLS recording of one push: one playlist, .ts segments cut by ffmpeg.
 * Segments are moved into a folder reserved for this playlist as they close,
 * and the in-progress playlist (EVENT, no ENDLIST) is rewritten atomically
 * after each one, so it is a valid playlist whenever an operator reads it.
 * At the end the VOD playlist with ENDLIST appears under its final name.
 */
import { mkdir, rename, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { StorageError, errorMessage } from "../errors.js";
import type { HlsSegmentReport } from "../mux/ffmpeg-remux-job.js";
import { moveIntoPlace } from "../segment/file-sink.js";
import { DEFAULT_VOD_FILE_NAME, renderVodFileName } from "../segment/naming.js";
import { HlsPlaylist } from "../splice/hls-playlist.js";
import type { OutputHost } from "./output-host.js";

const SEGMENT_FOLDER_PATTERN = "{StreamID}_{StartYear}-{StartMonth}-{StartDay}-{StartHour}-{StartMinute}-{StartSecond}";

export class HlsOutput {
  private readonly playlist = new HlsPlaylist();
  /** Reports of ffmpeg jobs that started after the one still running, held to keep segment order. */
  private readonly jobs: { done: boolean; reports: HlsSegmentReport[]; lastEndSec: number }[] = [];
  private head = 0;
  private chain: Promise<void> = Promise.resolve();
  private folder: string | undefined;
  private startMs = 0;
  private sizeBytes = 0;
  private readonly liveName: string;

  constructor(private readonly host: OutputHost) {
    this.liveName = join(host.target.inProgressDirectory, `${host.target.id}.m3u8`);
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

  /** The push ended and every job is done: publish the VOD playlist. */
  async finish(): Promise<void> {
    await this.chain;
    if (this.playlist.segments.length === 0) {
      await rm(this.liveName, { force: true });
      return;
    }
    const { target, settings } = this.host;
    const durationMs = Math.round(this.playlist.durationSec * 1000);
    const base = renderVodFileName(settings.formats.hls.vodFileName ?? DEFAULT_VOD_FILE_NAME, {
      streamId: target.stream,
      startMs: this.startMs,
      endMs: this.startMs + durationMs,
      utcOffsetMinutes: settings.utcOffsetMinutes,
    });
    try {
      const tmp = `${this.liveName}.final`;
      await writeFile(tmp, this.playlist.render(true));
      const path = await moveIntoPlace(tmp, target.directory, base, "m3u8");
      await rm(this.liveName, { force: true });
      const sizeBytes = this.sizeBytes + (await stat(path)).size;
      this.host.fileCompleted({ format: "hls", path, startMs: this.startMs, endMs: this.startMs + durationMs, durationSec: durationMs / 1000, sizeBytes, index: 0 });
    } catch (err) {
      this.host.failed(new StorageError("HLS_CLOSE_FAILED", `writing the HLS playlist failed: ${errorMessage(err)}`, { cause: err }));
    }
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

  private async append(report: HlsSegmentReport, durationSec: number): Promise<void> {
    const { target, settings } = this.host;
    try {
      if (this.folder === undefined) {
        this.startMs = this.host.wallForTimestamp(this.host.firstTimestamp() ?? 0);
        this.folder = await this.reserveFolder(
          renderVodFileName(SEGMENT_FOLDER_PATTERN, { streamId: target.stream, startMs: this.startMs, endMs: this.startMs, utcOffsetMinutes: settings.utcOffsetMinutes }),
        );
      }
      const name = `${String(this.playlist.segments.length).padStart(6, "0")}.ts`;
      const from = join(target.inProgressDirectory, report.file);
      await rename(from, join(target.directory, this.folder, name));
      this.sizeBytes += (await stat(join(target.directory, this.folder, name))).size;
      this.playlist.add(`${this.folder}/${name}`, durationSec);
      const tmp = `${this.liveName}.tmp`;
      await writeFile(tmp, this.playlist.render(false, settings.hlsSegmentSeconds, "../"));
      await rename(tmp, this.liveName);
    } catch (err) {
      this.host.failed(new StorageError("HLS_SEGMENT_FAILED", `adding HLS segment ${report.file} failed: ${errorMessage(err)}`, { cause: err }));
    }
  }

  /** mkdir fails if the folder exists: that makes the reservation atomic. */
  private async reserveFolder(base: string): Promise<string> {
    for (let n = 0; ; n++) {
      const name = n === 0 ? base : `${base}_${n}`;
      try {
        await mkdir(join(this.host.target.directory, name));
        return name;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "EEXIST" || n > 1000) throw err;
      }
    }
  }
}
