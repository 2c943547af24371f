/**
 * A recording's journal: one JSON line per event in `.recording/<id>.journal`,
 * appended as the recording goes. After a crash it says what each
 * in-progress file is (format, start time, where it would be named), so
 * recovery can close it and name it as the recording would have. A clean
 * close removes it.
 */
import { createWriteStream, type WriteStream } from "node:fs";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import type { OutputFormat } from "../mux/types.js";
import type { InProgressFile } from "../segment/file-finisher.js";

export const JOURNAL_SUFFIX = ".journal";

export interface JournalStart {
  kind: "start";
  recordingId: string;
  domain: string;
  app: string;
  stream: string;
  /** Wall clock (ms) of the first frame, and that frame's stream timestamp. */
  wallStartMs: number;
  firstTimestamp: number;
  utcOffsetMinutes: number;
  vodFileNames: Partial<Record<OutputFormat, string>>;
  /** The in-progress HLS playlist, when HLS is recorded. */
  hlsLivePath?: string;
  /** Opaque to the engine: what the orchestrator needs to catalog recovered files. */
  context: Record<string, unknown>;
}

/** An output file started (what it is, for recovery to close and name it). */
export interface JournalFileOpen extends InProgressFile {
  kind: "open";
}

export interface JournalFileDone {
  kind: "done";
  path: string;
}

export type JournalEntry = JournalStart | JournalFileOpen | JournalFileDone;

export class Journal {
  private stream: WriteStream | undefined;
  readonly path: string;

  private failed = false;

  /** @param onError told once if the journal cannot be written (a full disk): recording goes on without it. */
  constructor(
    inProgressDirectory: string,
    recordingId: string,
    private readonly onError: (err: Error) => void = () => {},
  ) {
    this.path = join(inProgressDirectory, `${recordingId}${JOURNAL_SUFFIX}`);
  }

  /** Appends one entry (ordered; written as soon as the disk takes it). */
  write(entry: JournalEntry): void {
    if (this.failed) return;
    if (!this.stream) {
      this.stream = createWriteStream(this.path, { flags: "a" });
      this.stream.on("error", (err) => {
        if (this.failed) return;
        this.failed = true;
        this.onError(err);
      });
    }
    this.stream.write(`${JSON.stringify(entry)}\n`);
  }

  /** Stops writing (kept on disk for recovery). */
  async close(): Promise<void> {
    const s = this.stream;
    if (s && !s.destroyed) await new Promise<void>((resolve) => s.end(() => resolve()));
  }

  /** The recording closed cleanly: nothing to recover. */
  async remove(): Promise<void> {
    await this.close();
    await rm(this.path, { force: true });
  }
}

/** Parses a journal; a torn last line (a crash mid-write) is ignored. */
export function parseJournal(text: string): JournalEntry[] {
  const entries: JournalEntry[] = [];
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    try {
      entries.push(JSON.parse(line) as JournalEntry);
    } catch {
      break;
    }
  }
  return entries;
}
