/**
 * Crash recovery: run at start-up, before pushes are accepted. Every
 * `.recording/` folder is scanned for journals of recordings that did not
 * close; each of their unfinished files is made whole and playable and moved
 * into place under the name it would have had:
 * - FLV: truncated to the last whole tag, duration patched into onMetaData;
 * - MP4: the fragmented copy remuxed (-c copy) into a regular MP4 with moov;
 * - AAC: truncated to the last whole ADTS frame;
 * - HLS: a half-written last .ts is cut to whole TS packets and appended,
 *   then the playlist is closed with ENDLIST.
 * Files that cannot be recovered stay where they are and are reported.
 */
import { open, readdir, readFile, rename, rm, stat, truncate } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { errorMessage } from "../errors.js";
import { ffmpegOutput } from "../ffmpeg/run-ffmpeg.js";
import type { Logger } from "../logger.js";
import { scanAdts } from "../mux/adts.js";
import { FileFinisher, type FinishedFile, type InProgressFile } from "../segment/file-finisher.js";
import { finalizePlaylist, type HlsPlaylistState, reserveSegmentFolder } from "../splice/hls-state.js";
import { DURATION_BYTES, scanFlvFile } from "./flv-file-scan.js";
import { JOURNAL_SUFFIX, type JournalFileOpen, type JournalStart, parseJournal } from "./journal.js";

export const IN_PROGRESS_FOLDER = ".recording";
/** MPEG-TS packets are 188 bytes (ISO/IEC 13818-1). */
const TS_PACKET = 188;
/** A recovery run of ffmpeg (stream copy of one file) that takes longer than this is stuck. */
const FFMPEG_TIMEOUT_MS = 120_000;

/** A file recovery made whole and moved into place, with who recorded it. */
export interface RecoveredFile extends Omit<FinishedFile, "index"> {
  recordingId: string;
  domain: string;
  app: string;
  stream: string;
  /** The orchestrator's context from the journal (template, task, stream_param...). */
  context: Record<string, unknown>;
}

export interface RecoveryReport {
  recovered: RecoveredFile[];
  failed: { path: string; error: string }[];
}

/** Media duration of a file as ffmpeg reads it (stream copy to null), in ms. */
async function ffmpegDurationMs(ffmpegPath: string, path: string): Promise<number> {
  const out = await ffmpegOutput(ffmpegPath, ["-nostdin", "-v", "error", "-i", `file:${path}`, "-map", "0", "-c", "copy", "-f", "null", "-progress", "pipe:1", "-"], FFMPEG_TIMEOUT_MS);
  const times = [...out.matchAll(/out_time_us=(\d+)/g)].map((m) => Number(m[1]));
  return Math.round((times.at(-1) ?? 0) / 1000);
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

export class Recovery {
  private readonly report: RecoveryReport = { recovered: [], failed: [] };

  constructor(
    private readonly recordingsRoot: string,
    private readonly ffmpegPath: string,
    private readonly logger: Logger,
  ) {}

  /** Recovers every unfinished recording under the recordings folder. */
  async run(): Promise<RecoveryReport> {
    for (const folder of await this.inProgressFolders()) {
      for (const name of await readdir(folder)) {
        if (name.endsWith(JOURNAL_SUFFIX)) await this.recoverJournalEntries(join(folder, name));
      }
    }
    return this.report;
  }

  /** recordings/<domain>/<app>/<stream>/.recording */
  private async inProgressFolders(): Promise<string[]> {
    const out: string[] = [];
    const list = (dir: string) => readdir(dir, { withFileTypes: true }).then((e) => e.filter((d) => d.isDirectory() && !d.name.startsWith(".")).map((d) => join(dir, d.name)), () => [] as string[]);
    for (const domain of await list(this.recordingsRoot)) {
      for (const app of await list(domain)) {
        for (const stream of await list(app)) {
          if (await exists(join(stream, IN_PROGRESS_FOLDER))) out.push(join(stream, IN_PROGRESS_FOLDER));
        }
      }
    }
    return out;
  }

  /** Recovers one recording from its journal (after a crash, or after it failed to close its files). */
  async recoverJournal(journalPath: string): Promise<RecoveryReport> {
    await this.recoverJournalEntries(journalPath);
    return this.report;
  }

  private async recoverJournalEntries(journalPath: string): Promise<void> {
    const entries = parseJournal(await readFile(journalPath, "utf8"));
    const start = entries.find((e): e is JournalStart => e.kind === "start");
    if (!start) {
      await rm(journalPath, { force: true });
      return;
    }
    const done = new Set(entries.flatMap((e) => (e.kind === "done" ? [e.path] : [])));
    const opens = entries.filter((e): e is JournalFileOpen => e.kind === "open" && !done.has(e.path));
    const directory = dirname(dirname(journalPath));
    let ok = true;
    for (const file of opens) ok = (await this.attempt(file.path, () => this.recoverFile(start, file, directory))) && ok;
    if (start.hlsLivePath && !done.has(start.hlsLivePath)) ok = (await this.attempt(start.hlsLivePath, () => this.recoverHls(start, directory))) && ok;
    if (ok) await rm(journalPath, { force: true });
  }

  private async attempt(path: string, work: () => Promise<RecoveredFile | undefined>): Promise<boolean> {
    try {
      const file = await work();
      if (file) {
        this.report.recovered.push(file);
        this.logger.info("recovered a recording file after a crash", { format: file.format, path: file.path, durationSec: file.durationSec });
      }
      return true;
    } catch (err) {
      this.report.failed.push({ path, error: errorMessage(err) });
      this.logger.error("cannot recover a recording file; it stays in .recording", { path, error: errorMessage(err) });
      return false;
    }
  }

  /** Names and moves a recovered file into place as its recording would have (the one file finisher). */
  private async place(start: JournalStart, directory: string, file: InProgressFile, src: string, durationMs: number, leftovers: string[] = []): Promise<RecoveredFile> {
    const startMs = start.wallStartMs + ((file.startTimestamp - start.firstTimestamp) | 0);
    const naming = { directory, streamId: start.stream, utcOffsetMinutes: start.utcOffsetMinutes, vodFileNames: start.vodFileNames };
    const finished = await new FileFinisher(naming).finish({
      format: file.format,
      inProgressPath: src,
      startMs,
      endMs: startMs + durationMs,
      durationSec: durationMs / 1000,
      index: file.index,
      mediaStartMs: file.startTimestamp,
      leftovers,
    });
    const { index: _index, ...placed } = finished;
    return recovered(start, placed);
  }

  private async recoverFile(start: JournalStart, file: JournalFileOpen, directory: string): Promise<RecoveredFile | undefined> {
    if (file.format === "flv") {
      if (!(await exists(file.path))) return undefined;
      // Streamed: a recording may be larger than a Buffer can hold (2 GiB).
      const scan = await scanFlvFile(file.path);
      const clock = scan.clock;
      if (clock.start === undefined) {
        await rm(file.path, { force: true });
        return undefined;
      }
      await truncate(file.path, scan.validLength);
      if (scan.durationOffset !== undefined) {
        const fh = await open(file.path, "r+");
        try {
          const bytes = Buffer.alloc(DURATION_BYTES);
          bytes.writeDoubleBE(clock.durationMs / 1000);
          await fh.write(bytes, 0, DURATION_BYTES, scan.durationOffset);
          await fh.sync();
        } finally {
          await fh.close();
        }
      }
      return this.place(start, directory, file, file.path, clock.durationMs);
    }
    if (file.format === "aac") {
      if (!(await exists(file.path))) return undefined;
      const scan = scanAdts(await readFile(file.path));
      if (scan.frames === 0) {
        await rm(file.path, { force: true });
        return undefined;
      }
      await truncate(file.path, scan.validLength);
      return this.place(start, directory, file, file.path, scan.durationMs);
    }
    // MP4: the regular file has no moov after a crash; the fragmented copy is whole up to its last fragment.
    const frag = file.fragmentedPath;
    if (!frag || !(await exists(frag))) return undefined;
    const fixed = `${file.path}.recovered`;
    await ffmpegOutput(this.ffmpegPath, ["-nostdin", "-v", "error", "-y", "-i", `file:${frag}`, "-map", "0", "-c", "copy", "-movflags", "+faststart", "-f", "mp4", `file:${fixed}`], FFMPEG_TIMEOUT_MS);
    const durationMs = await ffmpegDurationMs(this.ffmpegPath, fixed);
    return this.place(start, directory, file, fixed, durationMs, [frag, file.path]);
  }

  private async recoverHls(start: JournalStart, directory: string): Promise<RecoveredFile | undefined> {
    const livePath = start.hlsLivePath!;
    const inProgress = dirname(livePath);
    const text = await readFile(livePath, "utf8").catch(() => undefined);
    const state: HlsPlaylistState = {
      directory,
      folder: "",
      livePath,
      streamId: start.stream,
      vodFileName: start.vodFileNames.hls ?? "",
      utcOffsetMinutes: start.utcOffsetMinutes,
      startMs: start.wallStartMs,
      endMs: start.wallStartMs,
      mediaStartMs: start.firstTimestamp,
      media: {},
      sizeBytes: 0,
      segments: [],
      liveTargetSec: 1,
    };
    if (text !== undefined) {
      let duration = 0;
      let discontinuity = false;
      for (const line of text.split("\n")) {
        if (line.startsWith("#EXTINF:")) duration = Number.parseFloat(line.slice(8));
        else if (line === "#EXT-X-DISCONTINUITY") discontinuity = true;
        else if (line && !line.startsWith("#")) {
          const uri = line.replace(/^\.\.\//, "");
          state.folder = uri.split("/")[0]!;
          state.segments.push({ uri, durationSec: duration, discontinuity });
          state.sizeBytes += (await stat(join(directory, uri)).catch(() => ({ size: 0 }))).size;
          discontinuity = false;
        }
      }
    }
    // ffmpeg's half-written segments of this recording: whole TS packets are playable.
    const prefix = `${basename(livePath, ".m3u8")}.`;
    const partials = (await readdir(inProgress)).filter((n) => n.startsWith(prefix) && n.endsWith(".ts")).sort();
    for (const name of partials) {
      const path = join(inProgress, name);
      const size = (await stat(path)).size;
      await truncate(path, size - (size % TS_PACKET));
      const durationMs = size >= TS_PACKET ? await ffmpegDurationMs(this.ffmpegPath, path).catch(() => 0) : 0;
      if (durationMs <= 0) {
        await rm(path, { force: true });
        continue;
      }
      state.folder ||= await reserveSegmentFolder(directory, start.stream, start.wallStartMs, start.utcOffsetMinutes);
      const segName = `${String(state.segments.length).padStart(6, "0")}.ts`;
      await rename(path, join(directory, state.folder, segName));
      state.segments.push({ uri: `${state.folder}/${segName}`, durationSec: durationMs / 1000, discontinuity: false });
      state.sizeBytes += size - (size % TS_PACKET);
    }
    if (state.segments.length === 0) {
      await rm(livePath, { force: true });
      return undefined;
    }
    const final = await finalizePlaylist(state);
    return final && recovered(start, { format: "hls", ...final, mediaStartMs: start.firstTimestamp });
  }
}

function recovered(start: JournalStart, file: Omit<FinishedFile, "index">): RecoveredFile {
  return { recordingId: start.recordingId, domain: start.domain, app: start.app, stream: start.stream, ...file, context: start.context };
}
