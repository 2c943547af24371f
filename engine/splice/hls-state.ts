/**
 * The state of one HLS recording's playlist, plain data so it can be kept in
 * the catalog: a playlist left open after a push (HLS splicing, spec §1.3
 * FlowContinueDuration) is continued by the next push, even after a restart,
 * or closed with ENDLIST when the window passes.
 */
import { rename, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { MediaDescription } from "../media-types.js";
import { moveIntoPlace } from "../segment/file-sink.js";
import { DEFAULT_VOD_FILE_NAME, renderVodFileName } from "../segment/naming.js";
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

export interface FinalHlsPlaylist {
  path: string;
  startMs: number;
  endMs: number;
  durationSec: number;
  sizeBytes: number;
}

export function playlistOf(state: HlsPlaylistState): HlsPlaylist {
  return new HlsPlaylist(state.segments);
}

/** Rewrites the in-progress playlist atomically (write + rename): valid whenever it is read. */
export async function writeLivePlaylist(state: HlsPlaylistState): Promise<void> {
  const tmp = `${state.livePath}.tmp`;
  await writeFile(tmp, playlistOf(state).render(false, state.liveTargetSec, "../"));
  await rename(tmp, state.livePath);
}

/** Closes the playlist: the VOD playlist with ENDLIST appears under its final name; the live copy goes. */
export async function finalizePlaylist(state: HlsPlaylistState): Promise<FinalHlsPlaylist | undefined> {
  if (state.segments.length === 0) {
    await rm(state.livePath, { force: true });
    return undefined;
  }
  const playlist = playlistOf(state);
  const durationSec = playlist.durationSec;
  const endMs = Math.max(state.endMs, state.startMs + Math.round(durationSec * 1000));
  const base = renderVodFileName(state.vodFileName || DEFAULT_VOD_FILE_NAME, {
    streamId: state.streamId,
    startMs: state.startMs,
    endMs,
    utcOffsetMinutes: state.utcOffsetMinutes,
  });
  const tmp = `${state.livePath}.final`;
  await writeFile(tmp, playlist.render(true));
  const path = await moveIntoPlace(tmp, state.directory, base, "m3u8");
  await rm(state.livePath, { force: true });
  return { path, startMs: state.startMs, endMs, durationSec, sizeBytes: state.sizeBytes + (await stat(path)).size };
}

/** Where a segment of the playlist lives. */
export function segmentPath(state: HlsPlaylistState, name: string): string {
  return join(state.directory, state.folder, name);
}
