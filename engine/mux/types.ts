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
