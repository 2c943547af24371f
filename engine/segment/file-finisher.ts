/**
 * "Finish a file", written once for every output and for crash recovery:
 * name it from its format's VodFileName (spec §5), move it into place without
 * replacing anything (moveIntoPlace), remove what it made redundant, journal
 * its completion, report it. A file appears under its final name only here.
 *
 * The name is pure (`finalFileName`); the file system is touched only in
 * `finish`. Journal and report are hooks of the owner (a recording journals
 * and emits; recovery and a closing splice window just take the result).
 */
import { rm, stat } from "node:fs/promises";
import { FORMAT_EXTENSION, type OutputFormat } from "../mux/types.js";
import { moveIntoPlace } from "./file-sink.js";
import { DEFAULT_VOD_FILE_NAME, renderVodFileName } from "./naming.js";

/** Where finished files of one stream go and how they are named. */
export interface FileNaming {
  /** Folder of finished files: data/recordings/<domain>/<app>/<stream>. */
  directory: string;
  streamId: string;
  /** File names carry times in this offset from UTC. */
  utcOffsetMinutes: number;
  /** VodFileName pattern per format; the default pattern when absent or empty. */
  vodFileNames: Partial<Record<OutputFormat, string>>;
}

/** An output file being written, as recovery must know it after a crash. */
export interface InProgressFile {
  format: "flv" | "mp4" | "aac";
  /** 0-based index among the recording's files of this format. */
  index: number;
  path: string;
  /** The fragmented MP4 written alongside (crash-safe copy). */
  fragmentedPath?: string;
  /** Stream timestamp (ms) of the file's first frame. */
  startTimestamp: number;
}

/** What the finisher journals; recovery/journal.ts entries of the same kinds. */
export type FileJournalEntry = ({ kind: "open" } & InProgressFile) | { kind: "done"; path: string };

/** A file that is complete, closed and under its final name. */
export interface FinishedFile {
  format: OutputFormat;
  path: string;
  /** Wall-clock times of the file's first frame and of its end, ms since the epoch. */
  startMs: number;
  endMs: number;
  durationSec: number;
  sizeBytes: number;
  /** 0-based index of the file among its recording's files of the same format. */
  index: number;
  /** The stream timestamp (ms) of the file's first frame: the callback's media_start_time. */
  mediaStartMs: number;
}

/** A complete file still in the in-progress folder. */
export interface FileToFinish extends Omit<FinishedFile, "path" | "sizeBytes"> {
  inProgressPath: string;
  /** Its size when the caller knows it; read after the move otherwise. */
  sizeBytes?: number;
  /** Bytes of the files it stands for, added to its size (an HLS playlist's segments). */
  extraBytes?: number;
  /** Files it makes redundant once in place (an MP4's crash-safe fragmented copy), removed before it is reported. */
  leftovers?: readonly string[];
}

export interface FinisherHooks {
  /** The recording's journal: files opened, files done. */
  journal?: (entry: FileJournalEntry) => void;
  /** A file is in place. */
  completed?: (file: FinishedFile) => void;
}

/** The final base name (without extension) and extension of a file. Pure. */
export function finalFileName(naming: FileNaming, format: OutputFormat, startMs: number, endMs: number): { base: string; ext: string } {
  const base = renderVodFileName(naming.vodFileNames[format] || DEFAULT_VOD_FILE_NAME, {
    streamId: naming.streamId,
    startMs,
    endMs,
    utcOffsetMinutes: naming.utcOffsetMinutes,
  });
  return { base, ext: FORMAT_EXTENSION[format] };
}

export class FileFinisher {
  constructor(
    readonly naming: FileNaming,
    private readonly hooks: FinisherHooks = {},
  ) {}

  /** Journals a file that starts being written, for recovery to find after a crash. */
  opened(file: InProgressFile): void {
    this.hooks.journal?.({ kind: "open", ...file });
  }

  /**
   * Names, moves into place, journals and reports a complete file. Throws
   * (StorageError from the move) with the file left where it was, for recovery.
   * Once the file is in place it is always reported: what follows the move
   * (its size, removing leftovers) is best effort.
   * @param naming this file's naming, when not the finisher's (a playlist continued from an earlier push).
   */
  async finish(file: FileToFinish, naming: FileNaming = this.naming): Promise<FinishedFile> {
    const { inProgressPath, sizeBytes, extraBytes, leftovers, ...fields } = file;
    const { base, ext } = finalFileName(naming, file.format, file.startMs, file.endMs);
    const path = await moveIntoPlace(inProgressPath, naming.directory, base, ext);
    const size = (sizeBytes ?? (await stat(path).then((s) => s.size, () => 0))) + (extraBytes ?? 0);
    this.hooks.journal?.({ kind: "done", path: inProgressPath });
    for (const leftover of leftovers ?? []) await rm(leftover, { force: true }).catch(() => undefined);
    const finished: FinishedFile = { ...fields, path, sizeBytes: size };
    this.hooks.completed?.(finished);
    return finished;
  }
}
