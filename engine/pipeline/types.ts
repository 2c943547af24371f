import type { RecorderError } from "../errors.js";
import type { Logger } from "../logger.js";
import type { MediaDescription } from "../media-types.js";
import type { FfmpegCapabilities } from "../ffmpeg/ffmpeg-capabilities.js";
import type { FlvHevcMode, FormatSkip, OutputFormat, TrackSet } from "../mux/types.js";
import type { FinishedFile } from "../segment/file-finisher.js";
import type { HlsPlaylistState } from "../splice/hls-state.js";

/** Per-format settings, as the cloud API's RecordParam (Enable, RecordInterval, VodFileName). */
export interface FormatSettings {
  enabled: boolean;
  /** Seconds per file. Ignored for HLS: one playlist per push. */
  intervalSec: number;
  /** VodFileName pattern (spec §5); the default when absent. */
  vodFileName?: string;
  /** spec §1.2 StorageTime: seconds to keep the files, 0 = forever (enforced by the catalog's sweeper). */
  storageTimeSec?: number;
}

export interface RecordingSettings {
  formats: Record<OutputFormat, FormatSettings>;
  /** Target length of HLS .ts segments, in seconds (cut on the next keyframe). */
  hlsSegmentSeconds: number;
  /** File names carry times in this offset from UTC (the cloud uses +480, Beijing time). */
  utcOffsetMinutes: number;
  /** How much media (ms) to wait for a second track before deciding what a stream carries. */
  probeWindowMs: number;
  /** Per output: bytes queued for a slow disk or ffmpeg before frames are dropped. */
  maxQueueBytes: number;
  /**
   * HLS splicing window (spec §1.3 FlowContinueDuration, s): > 0 keeps the playlist open when
   * the push ends, for a new push of the stream within the window to continue.
   */
  hlsFlowContinueSec: number;
  /**
   * How H.265 is written into FLV files (the FLV extension for HEVC): "enhanced" (default) with
   * the Enhanced RTMP header (FourCC hvc1), read by FFmpeg 6.1+, OBS, VLC 3.0.19+...; "legacy" with
   * the de-facto codec id 12 (CDN players of the Chinese ecosystem, flv.js forks). Pushes in the
   * other form are converted tag by tag: only the 5-8 header bytes change, payloads and timestamps
   * do not. Other codecs are copied as pushed.
   */
  flvHevcMode?: FlvHevcMode;
}

export type { FlvHevcMode };

/** Where a recording's bytes go and what it is called. */
export interface RecordingTarget {
  /** Unique id of this recording (one push, one template). */
  id: string;
  domain: string;
  app: string;
  stream: string;
  /** Folder of finished files: data/recordings/<domain>/<app>/<stream>. */
  directory: string;
  /** Folder of in-progress files, inside `directory`. */
  inProgressDirectory: string;
  /** An open HLS playlist of an earlier push to continue after an EXT-X-DISCONTINUITY. */
  resumeHls?: HlsPlaylistState;
  /** Kept in the recording's journal for whoever recovers it after a crash (opaque to the engine). */
  journalContext?: Record<string, unknown>;
}

export interface RecordingDeps {
  ffmpegPath: string;
  /**
   * What that ffmpeg can do; limits the codec matrix. When absent, the cached probe of
   * `ffmpegPath` (started by locateFfmpeg at service start) is used.
   */
  ffmpegCapabilities?: FfmpegCapabilities;
  logger: Logger;
  /** Wall clock in ms since the epoch (injected for tests). */
  now: () => number;
}

/** A file of a recording that is complete, closed and under its final name. */
export interface CompletedFile extends FinishedFile {
  recordingId: string;
  domain: string;
  app: string;
  stream: string;
  /** What the file holds, from the stream's headers and onMetaData. */
  media: MediaDescription;
}

export interface RecordingStats {
  id: string;
  state: "probing" | "recording" | "closing" | "closed";
  tracks: TrackSet;
  /** Codecs and picture size, as far as known. */
  media: MediaDescription;
  formats: OutputFormat[];
  skipped: FormatSkip[];
  tagsIn: number;
  droppedFrames: number;
  clampedTimestamps: number;
  queuedBytes: number;
  filesCompleted: number;
  errors: number;
}

export type RecordingEvents = {
  /** The track set is known and outputs are chosen. */
  started: [{ tracks: TrackSet; formats: OutputFormat[]; skipped: FormatSkip[] }];
  file: [CompletedFile];
  error: [RecorderError];
  /** The push ended with the HLS playlist left open (splice window): keep this to continue it. */
  hlsOpen: [HlsPlaylistState];
  closed: [RecordingStats];
};
