/**
 * The codec support matrix, in one table. Source: "Recording Storage on VOD",
 * section "Supported Formats for Recording" (spec/recording-storage-on-vod.txt):
 * "extended" means a private FLV extension (Enhanced RTMP / legacy id 12).
 * AAC files are audio-only and hold AAC audio only ("Pure audio recording").
 *
 * The effective matrix is this table limited by what the ffmpeg the engine
 * runs can do (ffmpeg-capabilities.ts): FLV is written by the engine itself,
 * so every codec records to FLV; HLS, MP4 and AAC are ffmpeg `-c copy`
 * remuxes of a feed the engine writes (remux-feed.ts): FLV for H.264 / AAC /
 * MP3, Matroska for the rest.
 */
import type { AudioCodec, VideoCodec } from "../flv/tag-info.js";
import type { FfmpegCapabilities } from "../ffmpeg/ffmpeg-capabilities.js";
import type { FeedFormat } from "./remux-feed.js";
import { type FormatSkip, OUTPUT_FORMATS, type OutputFormat, type SkipCode, type TrackSet } from "./types.js";

export type Support = "supported" | "extended" | "unsupported";
export type MatrixCodec = Exclude<VideoCodec | AudioCodec, "unknown">;

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

export const MATRIX_CODECS = Object.keys(CODEC_MATRIX) as MatrixCodec[];

/** Codecs every ffmpeg reads from (legacy) FLV: the remux feed stays FLV for these. */
const FLV_FEED_CODECS: ReadonlySet<string> = new Set(["h264", "aac", "mp3"]);

/** What the engine writes to ffmpeg's stdin for a recording with these codecs (one feed per ffmpeg). */
export function remuxFeedFormat(codecs: readonly (VideoCodec | AudioCodec)[]): FeedFormat {
  return codecs.every((c) => FLV_FEED_CODECS.has(c)) ? "flv" : "matroska";
}

/** ffmpeg's name for each codec (`ffmpeg -codecs`). */
const FFMPEG_CODEC: Record<MatrixCodec, string> = {
  h264: "h264",
  h265: "hevc",
  h266: "vvc",
  av1: "av1",
  aac: "aac",
  mp3: "mp3",
  opus: "opus",
  vp9: "vp9",
  vp8: "vp8",
  flac: "flac",
  ac3: "ac3",
  eac3: "eac3",
};

/** ffmpeg muxers each format's output needs. */
const FORMAT_MUXERS: Record<Exclude<OutputFormat, "flv">, string[]> = {
  mp4: ["mp4"],
  hls: ["segment", "mpegts"],
  aac: ["adts"],
};

/**
 * The oldest libavformat whose Matroska demuxer and MP4 / MPEG-TS muxers carry
 * a codec, where that is newer than anything this engine otherwise needs.
 * AV1 in Matroska and MP4: FFmpeg 4.1 (measured: the bundled 4.1 build, Lavf
 * 58.24, remuxes AV1 Matroska to MP4). VVC: FFmpeg 7.1 (Lavf 61.7) — not
 * measured, no such build here; without a VVC decoder the pair is refused anyway.
 */
const MIN_LIBAVFORMAT: Partial<Record<MatrixCodec, { major: number; minor: number; release: string }>> = {
  av1: { major: 58, minor: 20, release: "4.1" },
  h266: { major: 61, minor: 7, release: "7.1" },
};

/** Codecs whose remux needs ffmpeg to know the codec with a decoder (stream parameters come from its parser/decoder). */
const NEEDS_DECODER: ReadonlySet<MatrixCodec> = new Set(["h266"]);

export interface MatrixCell {
  /** What the source document's table says. */
  documented: Support;
  /** Whether this engine, with this ffmpeg, records the codec to the format. */
  recordable: boolean;
  /** Who writes the file: the engine itself (FLV) or ffmpeg fed FLV / Matroska by the engine. */
  via?: "engine" | "ffmpeg-from-flv" | "ffmpeg-from-matroska";
  /** Why not, when not recordable. */
  skip?: { code: SkipCode; reason: string };
}

export interface EffectiveMatrix {
  ffmpeg: { path: string; version: string; libavformat?: string; error?: string };
  cells: Record<MatrixCodec, Record<OutputFormat, MatrixCell>>;
}

function lavfAtLeast(caps: FfmpegCapabilities, need: { major: number; minor: number }): boolean {
  const v = caps.libavformat;
  if (!v) return true; // unknown version: trust the listings
  return v.major > need.major || (v.major === need.major && v.minor >= need.minor);
}

function ffmpegName(caps: FfmpegCapabilities): string {
  const lavf = caps.libavformat ? `, libavformat ${caps.libavformat.major}.${caps.libavformat.minor}` : "";
  return `${caps.path} (${caps.version}${lavf})`;
}

/** Why this ffmpeg cannot remux `codec` into `format` from the given feed, or undefined when it can. */
function ffmpegLimit(codec: MatrixCodec, format: Exclude<OutputFormat, "flv">, feed: FeedFormat, caps: FfmpegCapabilities): string | undefined {
  const who = ffmpegName(caps);
  if (caps.error) return `the capabilities of ${who} are unknown: ${caps.error}`;
  if (!caps.demuxers.includes(feed)) return `${who} has no ${feed} demuxer`;
  const missing = FORMAT_MUXERS[format].filter((m) => !caps.muxers.includes(m));
  if (missing.length > 0) return `${who} has no ${missing.join("/")} muxer`;
  const name = FFMPEG_CODEC[codec];
  const known = caps.codecs[name];
  if (!known) return `${who} does not know the ${name} codec`;
  if (NEEDS_DECODER.has(codec) && !known.decode) return `${who} has no ${name} decoder`;
  const min = MIN_LIBAVFORMAT[codec];
  if (min && !lavfAtLeast(caps, min)) return `${name} in Matroska/MP4/MPEG-TS needs FFmpeg ${min.release}+ (libavformat ${min.major}.${min.minor}); ${who} is older`;
  return undefined;
}

function cell(codec: MatrixCodec, format: OutputFormat, caps: FfmpegCapabilities | undefined): MatrixCell {
  const documented = CODEC_MATRIX[codec][format];
  if (documented === "unsupported") {
    return {
      documented,
      recordable: false,
      skip: { code: "CODEC_NOT_SUPPORTED_BY_FORMAT", reason: `${codec} cannot be recorded to ${format.toUpperCase()} (codec support matrix)` },
    };
  }
  if (format === "flv") return { documented, recordable: true, via: "engine" };
  const feed = remuxFeedFormat([codec]);
  const via = feed === "flv" ? "ffmpeg-from-flv" : "ffmpeg-from-matroska";
  const limit = caps ? ffmpegLimit(codec, format, feed, caps) : undefined;
  if (limit) {
    return { documented, recordable: false, via, skip: { code: "CODEC_NOT_SUPPORTED_BY_FFMPEG", reason: `${codec} to ${format.toUpperCase()}: ${limit}` } };
  }
  return { documented, recordable: true, via };
}

/**
 * The documented matrix limited by what this ffmpeg can do: for every codec
 * and format, whether it records, how, and why not. Without capabilities it
 * is the documented matrix (every ffmpeg assumed able).
 */
export function effectiveMatrix(caps?: FfmpegCapabilities): EffectiveMatrix {
  const cells = {} as EffectiveMatrix["cells"];
  for (const codec of MATRIX_CODECS) {
    cells[codec] = {} as Record<OutputFormat, MatrixCell>;
    for (const format of OUTPUT_FORMATS) cells[codec][format] = cell(codec, format, caps);
  }
  const ffmpeg: EffectiveMatrix["ffmpeg"] = { path: caps?.path ?? "(not probed)", version: caps?.version ?? "unknown" };
  if (caps?.libavformat) ffmpeg.libavformat = `${caps.libavformat.major}.${caps.libavformat.minor}`;
  if (caps?.error) ffmpeg.error = caps.error;
  return { ffmpeg, cells };
}

/** The effective matrix as a text table, for `recorder doctor` and logs. */
export function formatEffectiveMatrix(m: EffectiveMatrix, codecs: readonly MatrixCodec[] = ["h264", "h265", "h266", "av1", "aac", "mp3", "opus"]): string {
  const mark = (c: MatrixCell) => (c.recordable ? (c.documented === "extended" ? "yes (ext)" : "yes") : c.documented === "unsupported" ? "-" : "no (ffmpeg)");
  const lines = [`ffmpeg: ${m.ffmpeg.path} ${m.ffmpeg.version}${m.ffmpeg.libavformat ? ` (libavformat ${m.ffmpeg.libavformat})` : ""}`];
  lines.push(["codec", ...OUTPUT_FORMATS.map((f) => f.toUpperCase())].map((s) => s.padEnd(12)).join(""));
  for (const codec of codecs) lines.push([codec, ...OUTPUT_FORMATS.map((f) => mark(m.cells[codec][f]))].map((s) => s.padEnd(12)).join(""));
  const reasons = codecs.flatMap((codec) => OUTPUT_FORMATS.map((f) => m.cells[codec][f]).filter((c) => c.skip?.code === "CODEC_NOT_SUPPORTED_BY_FFMPEG").map((c) => `  ${c.skip!.reason}`));
  return [...lines, ...(reasons.length > 0 ? ["not recordable with this ffmpeg:", ...reasons] : [])].join("\n");
}

/**
 * Decides which of the wanted formats a stream with these tracks can be
 * recorded to, with this ffmpeg (the documented matrix when `caps` is absent).
 * Returns the formats to record and a typed reason per skip.
 */
export function planFormats(
  wanted: readonly OutputFormat[],
  tracks: TrackSet,
  caps?: FfmpegCapabilities,
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
    const unknown = relevant.find((c) => c === "unknown");
    if (unknown !== undefined) {
      skipped.push({ format, code: "CODEC_NOT_SUPPORTED_BY_FORMAT", reason: `an unknown codec cannot be recorded to ${format.toUpperCase()} (codec support matrix)` });
      continue;
    }
    const known = relevant as MatrixCodec[];
    let skip = known.map((c) => cell(c, format, undefined).skip).find((s) => s !== undefined);
    if (!skip && format !== "flv" && caps) {
      // Checked with the pair's feed: one Matroska-only codec puts both tracks in Matroska.
      const feed = remuxFeedFormat(known);
      const limited = known.find((c) => ffmpegLimit(c, format, feed, caps) !== undefined);
      if (limited) skip = { code: "CODEC_NOT_SUPPORTED_BY_FFMPEG", reason: `${limited} to ${format.toUpperCase()}: ${ffmpegLimit(limited, format, feed, caps)}` };
    }
    if (skip) {
      skipped.push({ format, ...skip });
      continue;
    }
    formats.push(format);
  }
  return { formats, skipped };
}
