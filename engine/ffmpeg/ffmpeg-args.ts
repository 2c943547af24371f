/**
 * A small typed builder for the one ffmpeg command line the engine runs:
 * FLV or Matroska on stdin (remux-feed.ts), stream copy (-c copy, never re-encode) to every output the
 * current file period needs. Pure.
 */

export interface Mp4Output {
  /** Regular MP4, moov written at close: the file users get. */
  path: string;
  /** Fragmented copy written alongside, playable up to the last fragment if the process dies. */
  fragmentedPath: string;
}

/** HLS media segments as ffmpeg's segment muxer writes them: .ts files and a CSV list of them (the playlist is the engine's). */
export interface TsSegmentsOutput {
  /** ffmpeg segment pattern, e.g. /dir/base-%06d.ts */
  pattern: string;
  segmentSeconds: number;
  /**
   * For a period of known length: its first presentation time and its length
   * (s). ffmpeg's segment muxer cuts at multiples of segment_time counted from
   * 0, so a period starting at 6.08 s would get a short first segment; listing
   * the cut times from the period's own start keeps every segment full length.
   */
  period?: { startSec: number; lengthSec: number };
  /** File descriptor ffmpeg writes one CSV line per finished segment to ("file,start,end"). */
  listFd: number;
}

export interface RemuxPlan {
  hasVideo: boolean;
  hasAudio: boolean;
  /** What the engine writes on stdin (remux-feed.ts); FLV when absent. */
  inputFormat?: "flv" | "matroska";
  /** The audio is Opus: FFmpeg before 4.3 writes Opus into MP4 only with `-strict experimental`. */
  opusInMp4?: boolean;
  mp4?: Mp4Output;
  aacPath?: string;
  hls?: TsSegmentsOutput;
}

/** Fragment at every keyframe and at least twice a second: a crash loses at most ~0.5 s plus the feed batch. */
const MP4_FRAGMENT_MICROSECONDS = 500_000;

/** Cut times are listed this far past the period's nominal end, for the wait for the next keyframe. */
const SEGMENT_TIMES_SLACK_SEC = 600;

function segmentSchedule(hls: TsSegmentsOutput): string[] {
  if (!hls.period || !Number.isFinite(hls.period.lengthSec)) return ["-segment_time", String(hls.segmentSeconds)];
  const { startSec, lengthSec } = hls.period;
  const times: string[] = [];
  for (let t = hls.segmentSeconds; t < lengthSec + SEGMENT_TIMES_SLACK_SEC; t += hls.segmentSeconds) times.push((startSec + t).toFixed(3));
  return ["-segment_times", times.join(",")];
}

/** `file:` keeps a path from being read as a protocol or an option. */
const file = (path: string) => `file:${path}`;

export function buildRemuxArgs(plan: RemuxPlan): string[] {
  const maps: string[] = [];
  if (plan.hasVideo) maps.push("-map", "0:v:0");
  if (plan.hasAudio) maps.push("-map", "0:a:0");
  const args = [
    "-nostdin",
    "-hide_banner",
    "-loglevel",
    "error",
    // The engine writes every codec config tag before the first frame, so a short probe is enough.
    "-analyzeduration",
    "1000000",
    // Keep the publisher's timestamps: HLS stays continuous across file periods.
    "-copyts",
    "-f",
    plan.inputFormat ?? "flv",
    "-i",
    "pipe:0",
  ];
  if (plan.mp4) {
    const strict = plan.opusInMp4 ? ["-strict", "experimental"] : [];
    args.push(...maps, "-c", "copy", "-avoid_negative_ts", "make_zero", ...strict, "-f", "mp4", file(plan.mp4.path));
    args.push(
      ...maps,
      "-c",
      "copy",
      "-avoid_negative_ts",
      "make_zero",
      ...strict,
      "-movflags",
      "+frag_keyframe+empty_moov+default_base_moof",
      "-frag_duration",
      String(MP4_FRAGMENT_MICROSECONDS),
      "-f",
      "mp4",
      file(plan.mp4.fragmentedPath),
    );
  }
  if (plan.aacPath) {
    // ADTS has no index: flushing every packet makes the file on disk whole up to the last frame.
    args.push("-map", "0:a:0", "-c", "copy", "-flush_packets", "1", "-f", "adts", file(plan.aacPath));
  }
  if (plan.hls) {
    args.push(
      ...maps,
      "-c",
      "copy",
      "-f",
      "segment",
      "-segment_format",
      "mpegts",
      ...segmentSchedule(plan.hls),
      "-reset_timestamps",
      "0",
      "-segment_list",
      `pipe:${plan.hls.listFd}`,
      "-segment_list_type",
      "csv",
      file(plan.hls.pattern),
    );
  }
  return args;
}
