/**
 * Decides where files roll. Pure: fed one media frame at a time, in arrival
 * order. A segment closes when RecordInterval has passed AND the next frame
 * is a video keyframe (one frame of lookahead, as MediaMTX's recorder does),
 * so every file starts with a keyframe and no frame is lost or duplicated.
 * Streams without video roll on time, at the first audio frame past the interval.
 */

/** Signed difference of two 32-bit RTMP timestamps, correct across wrap-around. */
export function timestampDelta(later: number, earlier: number): number {
  return (later - earlier) | 0;
}

export type CutDecision = "first" | "cut" | "same";

export class Segmenter {
  private segmentStart: number | undefined;

  /**
   * @param intervalMs RecordInterval in milliseconds (Infinity: never roll).
   * @param cutOnVideo true when the recording has a video track: cut only on video keyframes.
   */
  constructor(
    private readonly intervalMs: number,
    private readonly cutOnVideo: boolean,
  ) {}

  /** Where this frame goes: it opens the first segment, opens a new one, or joins the current one. */
  decide(track: "audio" | "video", key: boolean, timestamp: number): CutDecision {
    if (this.segmentStart === undefined) {
      this.segmentStart = timestamp;
      return "first";
    }
    const boundary = this.cutOnVideo ? track === "video" && key : track === "audio";
    if (boundary && timestampDelta(timestamp, this.segmentStart) >= this.intervalMs) {
      this.segmentStart = timestamp;
      return "cut";
    }
    return "same";
  }
}
