/**
 * The frame model every stage reads: one FLV tag and what it carries,
 * described once when it enters the engine (stream/stream-hub.ts) so that
 * probes, outputs and muxers never parse the tag header again.
 *
 * `tag.data` is the tag body exactly as the publisher sent it; stages never
 * modify it, and holders that keep it beyond a call say so.
 */
import { type OnMetaData, readOnMetaData } from "./on-metadata.js";
import { type AudioTagInfo, describeTag, type VideoTagInfo } from "./tag-info.js";
import type { FlvTag } from "./types.js";

interface FrameBase {
  readonly tag: FlvTag;
  /** Decode timestamp, ms (the tag's timestamp). pts = dts + cts. */
  readonly dts: number;
}

/** A video tag: coded frame, sequence header, end of sequence... (`kind`), its codec, keyframe flag and signed cts. */
export type VideoFrame = FrameBase & Readonly<VideoTagInfo>;
/** An audio tag: coded frame, sequence header, MultichannelConfig (`multichannelConfig`)... */
export type AudioFrame = FrameBase & Readonly<AudioTagInfo>;
/** A script tag; `metadata` is the parsed onMetaData when `kind` is "metadata". */
export interface ScriptFrame extends FrameBase {
  readonly track: "data";
  readonly kind: "metadata" | "other";
  readonly key: false;
  readonly cts: 0;
  readonly metadata?: OnMetaData;
}

export type Frame = VideoFrame | AudioFrame | ScriptFrame;
export type MediaFrame = VideoFrame | AudioFrame;

/** Describes one tag (pure; never throws). Keeps `tag` (and so its data) in the frame. */
export function describeFrame(tag: FlvTag): Frame {
  const info = describeTag(tag);
  if (info.track !== "data") return Object.assign(info, { tag, dts: tag.timestamp });
  const metadata = info.kind === "metadata" ? readOnMetaData(tag.data) : undefined;
  return { tag, dts: tag.timestamp, track: "data", kind: info.kind, key: false, cts: 0, ...(metadata ? { metadata } : {}) };
}

/** A coded audio or video frame (not a config, end of sequence or script tag). */
export function isMediaFrame(frame: Frame): frame is MediaFrame {
  return frame.kind === "frame";
}
