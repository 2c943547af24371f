/**
 * Drops frames when an output's queue (a slow disk, a stalled ffmpeg) is over
 * its limit, instead of buffering without bound. Once it drops a video frame
 * it keeps dropping video until the next keyframe, so what is written still
 * decodes. Pure.
 */
export class FrameDropper {
  private waitingForKeyframe = false;

  constructor(
    private readonly maxQueueBytes: number,
    private readonly hasVideo: boolean,
  ) {}

  shouldDrop(queuedBytes: number, track: "audio" | "video", key: boolean): boolean {
    const over = queuedBytes > this.maxQueueBytes;
    if (track === "video" || !this.hasVideo) {
      if (this.waitingForKeyframe && !over && key) this.waitingForKeyframe = false;
      else if (over) this.waitingForKeyframe = true;
      return this.waitingForKeyframe;
    }
    return over;
  }
}
