/**
 * The state of one HLS recording's playlist, plain data so it can be kept in
 * the catalog: a playlist left open after a push (HLS splicing, spec §1.3
 * FlowContinueDuration) is continued by the next push, even after a restart,
 * or closed with ENDLIST when the window passes.
 */
import { mkdir, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { StorageError } from "../errors.js";
import type { MediaDescription } from "../media-types.js";
import { FileFinisher, type FileNaming, type FinishedFile } from "../segment/file-finisher.js";
import { renderVodFileName } from "../segment/naming.js";
import { HlsPlaylist, type HlsSegment } from "./hls-playlist.js";

export interface HlsPlaylistState {
  /** Folder of finished files (the stream folder). */
  directory: string;
  /** Segment folder inside `directory`, reserved for this playlist. */
  folder: string;
  /** The in-progress playlist (EVENT, no ENDLIST), rewritten after each segment. */
  livePath: string;
  streamId: string;
  /** VodFileName pattern of the final playlist ("" = default) and the offset its times use. */
  vodFileName: string;
  utcOffsetMinutes: number;
  /** Wall clock of the first segment's start and of the last segment's end, ms. */
  startMs: number;
  endMs: number;
  /** Stream timestamp (ms) of the first frame, and what the first push carried. */
  mediaStartMs: number;
  media: MediaDescription;
  /** Bytes of all segments so far. */
  sizeBytes: number;
  segments: HlsSegment[];
  /** Target duration announced by the live playlist; it only grows. */
  liveTargetSec: number;
}

/** The segment folder's name: the playlist's start time, as the default VodFileName starts. */
const SEGMENT_FOLDER_PATTERN = "{StreamID}_{StartYear}-{StartMonth}-{StartDay}-{StartHour}-{StartMinute}-{StartSecond}";
/** `_1` ... `_MAX_FOLDER_SUFFIX` are tried after the plain name. */
const MAX_FOLDER_SUFFIX = 1000;

/** The closed playlist: where it is and what it covers (its segments' bytes included in the size). */
export type FinalHlsPlaylist = Pick<FinishedFile, "path" | "startMs" | "endMs" | "durationSec" | "sizeBytes">;

export function playlistOf(state: HlsPlaylistState): HlsPlaylist {
  return new HlsPlaylist(state.segments);
}

/** Rewrites the in-progress playlist atomically (write + rename): valid whenever it is read. */
export async function writeLivePlaylist(state: HlsPlaylistState): Promise<void> {
  const tmp = `${state.livePath}.tmp`;
  await writeFile(tmp, playlistOf(state).render(false, state.liveTargetSec, "../"));
  await rename(tmp, state.livePath);
}

/** How the final playlist is named: by the playlist's own settings, kept with it across pushes. */
export function playlistNaming(state: HlsPlaylistState): FileNaming {
  return { directory: state.directory, streamId: state.streamId, utcOffsetMinutes: state.utcOffsetMinutes, vodFileNames: { hls: state.vodFileName } };
}

/**
 * Closes the playlist: the VOD playlist with ENDLIST appears under its final
 * name (through `finisher`, which journals and reports it); the live copy goes.
 */
export async function finalizePlaylist(state: HlsPlaylistState, finisher?: FileFinisher): Promise<FinalHlsPlaylist | undefined> {
  if (state.segments.length === 0) {
    await rm(state.livePath, { force: true });
    return undefined;
  }
  const playlist = playlistOf(state);
  const durationSec = playlist.durationSec;
  const naming = playlistNaming(state);
  const tmp = `${state.livePath}.final`;
  await writeFile(tmp, playlist.render(true));
  const { path, startMs, endMs, sizeBytes } = await (finisher ?? new FileFinisher(naming)).finish(
    {
      format: "hls",
      inProgressPath: tmp,
      startMs: state.startMs,
      endMs: Math.max(state.endMs, state.startMs + Math.round(durationSec * 1000)),
      durationSec,
      index: 0,
      mediaStartMs: state.mediaStartMs,
      extraBytes: state.sizeBytes,
      leftovers: [state.livePath],
    },
    naming,
  );
  return { path, startMs, endMs, durationSec, sizeBytes };
}

/**
 * Reserves the segment folder of a playlist starting at `startMs`, inside
 * `directory`: mkdir fails if the folder exists, which makes the reservation
 * atomic. Returns the folder's name.
 */
export async function reserveSegmentFolder(directory: string, streamId: string, startMs: number, utcOffsetMinutes: number): Promise<string> {
  const base = renderVodFileName(SEGMENT_FOLDER_PATTERN, { streamId, startMs, endMs: startMs, utcOffsetMinutes });
  for (let n = 0; n <= MAX_FOLDER_SUFFIX; n++) {
    const name = n === 0 ? base : `${base}_${n}`;
    try {
      await mkdir(join(directory, name));
      return name;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    }
  }
  throw new StorageError("RENAME_FAILED", `no free segment folder name for ${base} in ${directory}`);
}

/** Where a segment of the playlist lives. */
export function segmentPath(state: HlsPlaylistState, name: string): string {
  return join(state.directory, state.folder, name);
}
