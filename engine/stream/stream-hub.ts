/**
 * One live stream and what it feeds: each tag from the publisher is described
 * once (flv/frame.ts) and the frame handed to every attached recording.
 *
 * - Push start: until `release()` (the orchestrator is choosing which
 *   recordings the push gets), frames are held, and a recording attached then
 *   gets every held frame first, so its files start at the stream's start.
 *   The hold is bounded (MAX_HELD_FRAMES / MAX_HELD_BYTES): past it the
 *   oldest GOP goes, and the drops are counted and logged at release.
 * - Mid-push: a recording attached later gets the latest onMetaData and codec
 *   configs, then media from the next GOP start (video keyframe; any audio
 *   frame in an audio-only stream), so its first file plays on its own.
 *
 * The clock is injected: the hub stamps the arrival of held media frames,
 * and a recording fed held frames is told when its first one arrived
 * (FrameSink.firstFrameArrivedAt): a push's wall-clock start is its first
 * frame's arrival, not the moment its recording was attached.
 */
import { describeFrame, type Frame } from "../flv/frame.js";
import type { FlvTag } from "../flv/types.js";
import type { Logger } from "../logger.js";
import { StreamHeaders } from "./stream-headers.js";
import type { HubAttachment, StreamIdentity } from "./types.js";

/**
 * Frames held at push start, at most: as many as a recording's probe holds
 * (about 25 s of 30 fps video with AAC). The hold lasts while the
 * orchestrator picks the push's recordings: the template lookup (a few ms)
 * and, when the push continues a spliced HLS playlist, the close of the
 * stream's previous recording (its ffmpeg's exit, usually well under a
 * second). It only bites when those stall.
 */
export const MAX_HELD_FRAMES = 2000;
/** Bytes of held frames, at most, unless the owner sets more: about 8 s of an 8 Mbit/s stream. */
export const MAX_HELD_BYTES = 8 * 1024 * 1024;

export interface StreamHubOptions {
  /** Wall clock, ms since the epoch (injected for tests). */
  now?: () => number;
  /** Told at release when held frames were dropped. */
  logger?: Logger;
  /** Overrides MAX_HELD_FRAMES / MAX_HELD_BYTES (the service sizes the bytes like an output's queue). */
  heldLimits?: { frames: number; bytes: number };
}

interface HeldFrame {
  frame: Frame;
  /** Arrival, wall-clock ms. */
  at: number;
}

export class StreamHub<A extends HubAttachment = HubAttachment, S extends StreamIdentity = StreamIdentity> {
  /** When the hub was created (the publish was accepted). */
  readonly startedAt: Date;
  readonly attachments = new Map<string, A>();
  /** Media bytes received, for the bitrate operators see. */
  bytesIn = 0;
  /** Set by the owner when the publisher has gone: nothing more is attached. */
  ended = false;
  /** Frames dropped from the hold at push start (it is bounded); configs and onMetaData are kept. */
  heldDropped = 0;
  private readonly now: () => number;
  private readonly logger: Logger | undefined;
  private readonly limits: { frames: number; bytes: number };
  /** The stream's latest configs and metadata, for recordings attached mid-push. */
  private readonly headers = new StreamHeaders();
  /** Attachments that get media only from the next GOP start (attached mid-push). */
  private readonly waiting = new Set<string>();
  /** Frames held until `release()`; undefined after. */
  private held: HeldFrame[] | undefined = [];
  private heldBytes = 0;
  /** Headers of the frames dropped from the head of the hold: replayed in front of it. */
  private trimmed: StreamHeaders | undefined;
  /** The hold lost its head GOP entirely: media waits for the next GOP start. */
  private holdWaitsForGop = false;

  constructor(
    readonly id: string,
    readonly session: S,
    options: StreamHubOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    this.logger = options.logger;
    this.limits = options.heldLimits ?? { frames: MAX_HELD_FRAMES, bytes: MAX_HELD_BYTES };
    this.startedAt = new Date(this.now());
  }

  get domain(): string {
    return this.session.domain;
  }
  get app(): string {
    return this.session.app;
  }
  get stream(): string {
    return this.session.stream;
  }

  /** A tag from the publisher: described once, then handed to every attachment (and held, at push start). */
  onTag(tag: FlvTag): void {
    this.bytesIn += tag.data.length;
    const frame = describeFrame(tag);
    this.headers.observe(frame);
    if (this.held) {
      this.hold(frame, this.now());
      // Recordings attached already get it now; those attached later get it from `held`.
      for (const a of this.attachments.values()) a.recording.push(frame);
      return;
    }
    const startsGop = this.startsGop(frame);
    for (const a of this.attachments.values()) {
      if (this.waiting.size > 0 && this.waiting.has(a.recording.id)) {
        if (frame.kind === "frame" && !startsGop) continue;
        if (startsGop) this.waiting.delete(a.recording.id);
      }
      a.recording.push(frame);
    }
  }

  /** Attaches a recording. At push start it gets every frame held so far; mid-push, the cached headers. */
  attach(a: A): void {
    const id = a.recording.id;
    this.attachments.set(id, a);
    if (this.held) {
      const firstMedia = this.held.find((h) => h.frame.kind === "frame");
      if (firstMedia) a.recording.firstFrameArrivedAt(firstMedia.at);
      if (this.trimmed) for (const frame of this.trimmed.joinFrames()) a.recording.push(frame);
      for (const h of this.held) a.recording.push(h.frame);
      return;
    }
    this.waiting.add(id);
    for (const frame of this.headers.joinFrames()) a.recording.push(frame);
  }

  /** The push's recordings are chosen: from now on frames flow straight to the attachments. */
  release(): void {
    if (!this.held) return;
    if (this.heldDropped > 0) {
      this.logger?.warn("frames dropped while the push's recordings were being chosen", {
        push: this.id,
        dropped: this.heldDropped,
        held: this.held.length,
        heldBytes: this.heldBytes,
      });
    }
    this.held = undefined;
    this.heldBytes = 0;
    this.trimmed = undefined;
  }

  detach(recordingId: string): A | undefined {
    const a = this.attachments.get(recordingId);
    this.attachments.delete(recordingId);
    this.waiting.delete(recordingId);
    return a;
  }

  /** A video keyframe, or any audio frame while no video has been seen. */
  private startsGop(frame: Frame): boolean {
    return frame.kind === "frame" && (frame.track === "video" ? frame.key : this.headers.videoCodec === undefined);
  }

  private hold(frame: Frame, at: number): void {
    const held = this.held!;
    if (this.holdWaitsForGop && frame.kind === "frame") {
      if (!this.startsGop(frame)) {
        this.heldDropped++;
        return;
      }
      this.holdWaitsForGop = false;
    }
    held.push({ frame, at });
    this.heldBytes += frame.tag.data.length;
    while (held.length > this.limits.frames || this.heldBytes > this.limits.bytes) this.dropHeadGop(held);
  }

  /** Drops the held frames up to the next GOP start; their headers are kept for the replay. */
  private dropHeadGop(held: HeldFrame[]): void {
    this.trimmed ??= new StreamHeaders();
    let n = 0;
    do {
      const { frame } = held[n]!;
      this.trimmed.observe(frame);
      this.heldBytes -= frame.tag.data.length;
      // Configs and onMetaData live on in `trimmed`: only what is lost counts.
      if (frame.kind !== "config" && frame.kind !== "metadata") this.heldDropped++;
      n++;
    } while (n < held.length && !this.startsGop(held[n]!.frame));
    held.splice(0, n);
    if (held.length === 0) this.holdWaitsForGop = true;
  }
}
