/** Contracts of the stream hub (stream-hub.ts) with what it feeds. */
import type { Frame } from "../flv/frame.js";

/** The publisher a hub belongs to (an RTMP PublishSession, or anything with these names). */
export interface StreamIdentity {
  readonly domain: string;
  readonly app: string;
  readonly stream: string;
}

/** What a stream hub feeds: a recording. */
export interface FrameSink {
  /** Unique among the hub's attachments. */
  readonly id: string;
  /** One frame, in arrival order. The sink may keep the frame (and its data). */
  push(frame: Frame): void;
  /**
   * Called before frames held since the stream's start are replayed to the
   * sink: the wall-clock ms at which the first media frame among them
   * arrived. The sink's wall-clock start is that, not the time they reach it.
   */
  firstFrameArrivedAt(wallMs: number): void;
}

/** One consumer attached to a hub; callers extend it with their own fields (which task, which template). */
export interface HubAttachment {
  readonly recording: FrameSink;
}
