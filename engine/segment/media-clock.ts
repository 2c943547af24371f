/**
 * Media time covered by one file: from its first media timestamp to the last
 * one plus one video frame (how players count a file's duration). Pure.
 */
import { timestampDelta } from "./segmenter.js";

export class MediaClock {
  private first: number | undefined;
  private last = 0;
  private lastVideo: number | undefined;
  private videoStep = 0;

  observe(video: boolean, timestamp: number): void {
    if (this.first === undefined) this.first = timestamp;
    const t = timestampDelta(timestamp, this.first);
    if (t > this.last) this.last = t;
    if (video) {
      if (this.lastVideo !== undefined && t > this.lastVideo) this.videoStep = t - this.lastVideo;
      this.lastVideo = t;
    }
  }

  /** Timestamp of the first media frame (undefined before any). */
  get start(): number | undefined {
    return this.first;
  }

  get durationMs(): number {
    return this.first === undefined ? 0 : this.last + this.videoStep;
  }
}
