/**
 * The codec support matrix, in one table. Source: "Recording Storage on VOD",
 * section "Supported Formats for Recording" (spec/recording-storage-on-vod.txt):
 * "extended" means a private FLV extension (Enhanced RTMP / legacy id 12).
 * AAC files are audio-only and hold AAC audio only ("Pure audio recording").
 */
import type { AudioCodec, VideoCodec } from "../flv/tag-info.js";
import type { FormatSkip, OutputFormat, TrackSet } from "./types.js";

export type Support = "supported" | "extended" | "unsupported";
type MatrixCodec = Exclude<VideoCodec | AudioCodec, "unknown">;

const U: Support = "unsupported";
export const CODEC_MATRIX: Record<MatrixCodec, Record<OutputFormat, Support>> = {
  h264: { flv: "supported", hls: "supported", mp4: "supported", aac: U },
  h265: { flv: "extended", hls: "supported", mp4: "supported", aac: U },
  h266: { flv: "extended", hls: "supported", mp4: "supported", aac: U },
  av1: { flv: "extended", hls: U, mp4: "supported", aac: U },
  aac: { flv: "supported", hls: "supported", mp4: "supported", aac: "supported" },
  mp3: { flv: "supported", hls: "supported", mp4: "supported", aac: U },
  opus: { flv: "extended", hls: "supported", mp4: "supported", aac: U },
  // Not in the source document's table; FLV copies any tag, the others are refused.
  vp9: { flv: "extended", hls: U, mp4: U, aac: U },
  vp8: { flv: "extended", hls: U, mp4: U, aac: U },
  flac: { flv: "extended", hls: U, mp4: U, aac: U },
  ac3: { flv: "extended", hls: U, mp4: U, aac: U },
  eac3: { flv: "extended", hls: U, mp4: U, aac: U },
};

/**
 * What the ffmpeg-driven muxers can take today: the bundled and Debian ffmpeg
 * read legacy FLV only (no Enhanced RTMP FourCC tags), so HLS/MP4/AAC are fed
 * H.264, AAC and MP3. Wider support is the codec-matrix issue's work.
 */
const ENGINE_REMUX_CODECS: ReadonlySet<string> = new Set(["h264", "aac", "mp3"]);

/**
 * Decides which of the wanted formats a stream with these tracks can be
 * recorded to. Returns the formats to record and a typed reason per skip.
 */
export function planFormats(
  wanted: readonly OutputFormat[],
  tracks: TrackSet,
): { formats: OutputFormat[]; skipped: FormatSkip[] } {
  const formats: OutputFormat[] = [];
  const skipped: FormatSkip[] = [];
  const codecs = [tracks.video, tracks.audio].filter((c): c is VideoCodec | AudioCodec => c !== undefined);
  for (const format of wanted) {
    if (codecs.length === 0) {
      skipped.push({ format, code: "NO_MEDIA", reason: "the push carried no audio or video" });
      continue;
    }
    if (format === "aac" && tracks.audio === undefined) {
      skipped.push({ format, code: "NO_AUDIO_TRACK", reason: "AAC recording is audio-only and the stream has no audio" });
      continue;
    }
    // An AAC file holds only the audio track, so only the audio codec matters.
    const relevant = format === "aac" ? [tracks.audio!] : codecs;
    const refused = relevant.find((c) => c === "unknown" || CODEC_MATRIX[c][format] === "unsupported");
    if (refused !== undefined) {
      skipped.push({
        format,
        code: "CODEC_NOT_SUPPORTED_BY_FORMAT",
        reason: `${refused} cannot be recorded to ${format.toUpperCase()} (codec support matrix)`,
      });
      continue;
    }
    const notYet = format === "flv" ? undefined : relevant.find((c) => !ENGINE_REMUX_CODECS.has(c));
    if (notYet !== undefined) {
      skipped.push({
        format,
        code: "CODEC_NOT_SUPPORTED_BY_ENGINE",
        reason: `${notYet} to ${format.toUpperCase()} is in the matrix but this engine's ffmpeg cannot read it from FLV yet`,
      });
      continue;
    }
    formats.push(format);
  }
  return { formats, skipped };
}
