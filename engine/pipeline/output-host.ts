import type { RecorderError } from "../errors.js";
import type { Frame, MediaFrame } from "../flv/frame.js";
import type { OnMetaData } from "../flv/on-metadata.js";
import type { MediaDescription } from "../media-types.js";
import type { FileFinisher } from "../segment/file-finisher.js";
import type { RecordingDeps, RecordingSettings, RecordingTarget } from "./types.js";

/** What an output needs from the recording that owns it. */
export interface OutputHost {
  readonly target: RecordingTarget;
  readonly settings: RecordingSettings;
  readonly deps: RecordingDeps;
  readonly hasVideo: boolean;
  readonly hasAudio: boolean;
  /** The latest codec config frames (video first), to start a new file that plays on its own. */
  configFrames(): Frame[];
  /** The publisher's onMetaData, if any. */
  metadata(): OnMetaData | undefined;
  /** Codecs and picture size of the stream. */
  mediaDescription(): MediaDescription;
  /** Timestamp of the push's first media frame. */
  firstTimestamp(): number | undefined;
  /** Wall-clock ms of a media timestamp of this push. */
  wallForTimestamp(timestamp: number): number;
  /** Runs background work (closing a file) that the recording's end waits for. */
  track(work: Promise<void>): void;
  failed(err: RecorderError): void;
  countDropped(frames: number): void;
  /** Journals the outputs' files as they open; names, moves, journals and reports them when complete. */
  readonly files: FileFinisher;
}

/** One output of a recording, fed every frame in order, as the stream hub described it. */
export interface RecordingOutput {
  /** A media frame (audio or video coded frame) of a track the recording holds. */
  frame(frame: MediaFrame): void;
  /** Codec config, end-of-sequence or script frames (other than onMetaData) between media frames. */
  other(frame: Frame): void;
  /** The push ended: close the current file. */
  finish(): Promise<void>;
  readonly queuedBytes: number;
  readonly clampedTimestamps: number;
}
