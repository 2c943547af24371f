import type { Frame } from "../flv/frame.js";
import type { AudioCodec, VideoCodec } from "../flv/tag-info.js";

/** Output formats, named as the cloud API's RecordParam fields (FlvParam, HlsParam, Mp4Param, AacParam). */
export type OutputFormat = "flv" | "hls" | "mp4" | "aac";
export const OUTPUT_FORMATS: readonly OutputFormat[] = ["flv", "hls", "mp4", "aac"];

/** File extension of each format's finished files. */
export const FORMAT_EXTENSION: Record<OutputFormat, string> = { flv: "flv", hls: "m3u8", mp4: "mp4", aac: "aac" };

/** The tracks a recording carries, decided once at its start. */
export interface TrackSet {
  video?: VideoCodec;
  audio?: AudioCodec;
}

/**
 * Why a format is not recorded for a stream. Stable codes, for logs and status:
 * - CODEC_NOT_SUPPORTED_BY_FORMAT: the codec matrix does not allow the pair (AV1 to HLS, MP3 to AAC...).
 * - CODEC_NOT_SUPPORTED_BY_FFMPEG: the matrix allows it, the ffmpeg the service runs cannot do it
 *   (H.266 to MP4 with FFmpeg < 7.1...); another ffmpeg (config `ffmpegPath`, $FFMPEG_PATH) may.
 * - CODEC_NOT_SUPPORTED_BY_ENGINE: no longer produced (kept for readers of older status events).
 */
export type SkipCode =
  | "CODEC_NOT_SUPPORTED_BY_FORMAT"
  | "CODEC_NOT_SUPPORTED_BY_FFMPEG"
  | "CODEC_NOT_SUPPORTED_BY_ENGINE"
  | "NO_AUDIO_TRACK"
  | "NO_MEDIA";

export interface FormatSkip {
  format: OutputFormat;
  code: SkipCode;
  reason: string;
}

/** How H.265 is written into FLV: Enhanced RTMP FourCC hvc1, or the legacy codec id 12. */
export type FlvHevcMode = "enhanced" | "legacy";

/** Bytes to write in place once a file's bytes are all written (FLV: the real duration in onMetaData). */
export interface BytePatch {
  offset: number;
  bytes: Buffer;
}

/** What a muxer returns when its input ends. */
export interface MuxerEnd {
  /** Trailing bytes to write after everything else (none for FLV). */
  bytes: Buffer[];
  /** A patch to apply once the trailing bytes are written, if the format needs one. */
  patch?: BytePatch;
}

/**
 * The contract every muxer implements (flv-muxer.ts FlvMuxer, remux-feed.ts
 * FlvFeed and MatroskaFeed): frames in, container bytes out.
 *
 * - Pure: no I/O, no timers, no clock. The caller hands the returned buffers
 *   to a file sink or to an ffmpeg's stdin, in the order returned.
 * - Input: `Frame`s as the stream hub described them once (flv/frame.ts). A
 *   muxer reads the frame's description (track, kind, codec, key, dts, cts)
 *   and never parses the tag header again.
 * - `data`: returned buffers may share memory with `frame.tag.data` (payloads
 *   are never copied or modified) and belong to the caller from then on. A
 *   muxer keeps no reference to a frame or its data after a call unless its
 *   doc comment says so (MatroskaFeed holds a few frames until its header
 *   can be written).
 * - Lifecycle: `begin` once, with the latest codec configs so the output plays
 *   on its own; `write` for every later frame in arrival order; `end` once.
 */
export interface Muxer {
  /** The opening bytes: container header and the given codec config frames. */
  begin(configs: readonly Frame[]): Buffer[];
  /** One frame: a media frame, or a config, end-of-sequence or script frame between them. [] for frames the format has no use for. */
  write(frame: Frame): Buffer[];
  /** The input ends: trailing bytes and any in-place patch. */
  end(): MuxerEnd;
}
