/**
 * Media time covered by one file: from its first media timestamp to the end
 * of its last frame, whichever track ends later (how players count a file's
 * duration). A frame's length is taken as the step since the previous frame
 * of the same track. Pure.
 */
import { timestampDelta } from "./segmenter.js";

class TrackEnd {
  private last: number | undefined;
  private step = 0;

  observe(t: number): void {
    if (this.last !== undefined && t > this.last) this.step = t - this.last;
    if (this.last === undefined || t > this.last) this.last = t;
  }

  get end(): number {
    return this.last === undefined ? 0 : this.last + this.step;
  }
}

export class MediaClock {
  private first: number | undefined;
  private readonly video = new TrackEnd();
  private readonly audio = new TrackEnd();

  observe(video: boolean, timestamp: number): void {
    if (this.first === undefined) this.first = timestamp;
    (video ? this.video : this.audio).observe(timestampDelta(timestamp, this.first));
  }

  /** Timestamp of the first media frame (undefined before any). */
  get start(): number | undefined {
    return this.first;
  }

  get durationMs(): number {
    return Math.max(this.video.end, this.audio.end);
  }
}
