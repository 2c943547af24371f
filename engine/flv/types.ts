/**
 * The FLV tag model shared by every stage (ingest, segmenter, muxers).
 * Reference: Adobe FLV file format spec v10.1 (E.4 FLV tags) and
 * Enhanced RTMP v2 (veovera/enhanced-rtmp) for the extended headers.
 */

/** FLV tag types (spec E.4.1 TagType). Same numbers as RTMP message type ids 8/9/18. */
export const TagType = {
  Audio: 8,
  Video: 9,
  Script: 18,
} as const;
export type TagType = (typeof TagType)[keyof typeof TagType];

/**
 * One FLV tag as it travels through the engine: the tag body exactly as the
 * publisher sent it (RTMP message payload == FLV tag data) and its 32-bit
 * millisecond timestamp (RTMP timestamp == FLV Timestamp + TimestampExtended).
 * Stages never modify `data`; holders that keep it beyond a call say so.
 */
export interface FlvTag {
  type: TagType;
  /** Milliseconds, unsigned 32-bit. This is the decode timestamp (dts) for media. */
  timestamp: number;
  data: Buffer;
}
