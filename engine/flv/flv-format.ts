/**
 * FLV file framing (FLV spec v10.1, E.2 header, E.3 body, E.4.1 tag header).
 * Pure: turns tags into bytes and bytes into tags; no I/O.
 */
import { ParseError } from "../errors.js";
import { TagType, type FlvTag } from "./types.js";

/** E.2: "FLV", version 1, flags, header size 9. */
export const FLV_HEADER_SIZE = 9;
/** E.3: PreviousTagSize fields are UI32. */
export const PREVIOUS_TAG_SIZE_BYTES = 4;
/** E.4.1: TagType(1) DataSize(3) Timestamp(3) TimestampExtended(1) StreamID(3). */
export const TAG_HEADER_SIZE = 11;
const FLV_VERSION = 1;
const FLAG_AUDIO = 0x04;
const FLAG_VIDEO = 0x01;
/** DataSize is UI24. */
export const MAX_TAG_DATA_SIZE = 0xffffff;

/** The 9-byte header followed by PreviousTagSize0 (always 0). */
export function encodeFlvHeader(hasAudio: boolean, hasVideo: boolean): Buffer {
  const buf = Buffer.alloc(FLV_HEADER_SIZE + PREVIOUS_TAG_SIZE_BYTES);
  buf.write("FLV", 0, "latin1");
  buf[3] = FLV_VERSION;
  buf[4] = (hasAudio ? FLAG_AUDIO : 0) | (hasVideo ? FLAG_VIDEO : 0);
  buf.writeUInt32BE(FLV_HEADER_SIZE, 5);
  return buf;
}

/**
 * Frames one tag: returns [header, data, previousTagSize]. `data` is the
 * caller's buffer (not copied), so a writer can hand all three to writev.
 */
export function encodeTag(type: number, timestamp: number, data: Buffer): [Buffer, Buffer, Buffer] {
  if (data.length > MAX_TAG_DATA_SIZE) {
    throw new ParseError("FLV_TAG_TOO_LARGE", `tag of ${data.length} bytes exceeds FLV's 24-bit DataSize`);
  }
  const ts = timestamp >>> 0;
  const head = Buffer.allocUnsafe(TAG_HEADER_SIZE + PREVIOUS_TAG_SIZE_BYTES);
  head[0] = type;
  head.writeUIntBE(data.length, 1, 3);
  head.writeUIntBE(ts & 0xffffff, 4, 3);
  head[7] = ts >>> 24; // TimestampExtended: the upper 8 bits
  head.writeUIntBE(0, 8, 3); // StreamID: always 0
  head.writeUInt32BE(TAG_HEADER_SIZE + data.length, TAG_HEADER_SIZE);
  return [head.subarray(0, TAG_HEADER_SIZE), data, head.subarray(TAG_HEADER_SIZE)];
}

export interface ParsedFlv {
  hasAudio: boolean;
  hasVideo: boolean;
  tags: FlvTag[];
  /** Byte offset just after the last whole tag and its PreviousTagSize. */
  validLength: number;
  /** True when bytes after `validLength` did not form a whole tag. */
  truncated: boolean;
}

export interface FlvFileHeader {
  hasAudio: boolean;
  hasVideo: boolean;
  /** Offset of the first tag (after the header and PreviousTagSize0). */
  firstTagOffset: number;
}

/**
 * Reads the file header (E.2) from the first bytes of a file of `fileSize`
 * bytes (`buf` may be just the start of the file).
 */
export function parseFlvHeader(buf: Buffer, fileSize = buf.length): FlvFileHeader {
  if (buf.length < FLV_HEADER_SIZE || buf.toString("latin1", 0, 3) !== "FLV") {
    throw new ParseError("FLV_BAD_HEADER", "not an FLV file (missing 'FLV' signature)");
  }
  const headerSize = buf.readUInt32BE(5);
  if (headerSize < FLV_HEADER_SIZE || headerSize > fileSize) {
    throw new ParseError("FLV_BAD_HEADER", `invalid FLV header size ${headerSize}`);
  }
  const flags = buf[4]!;
  return { hasAudio: (flags & FLAG_AUDIO) !== 0, hasVideo: (flags & FLAG_VIDEO) !== 0, firstTagOffset: headerSize + PREVIOUS_TAG_SIZE_BYTES };
}

export interface FlvTagHeader {
  /** TagType with the reserved and Filter bits masked off. */
  type: number;
  dataSize: number;
  timestamp: number;
}

/** Reads the 11-byte tag header (E.4.1) at `offset`; `buf` must hold TAG_HEADER_SIZE bytes there. */
export function readTagHeader(buf: Buffer, offset: number): FlvTagHeader {
  return {
    type: buf[offset]! & 0x1f, // upper bits: reserved + Filter
    dataSize: buf.readUIntBE(offset + 1, 3),
    timestamp: (buf.readUIntBE(offset + 4, 3) | (buf[offset + 7]! << 24)) >>> 0,
  };
}

/** Bytes a tag takes in the file: header, data, and the PreviousTagSize that a clean write ends with. */
export function tagSpan(dataSize: number): number {
  return TAG_HEADER_SIZE + dataSize + PREVIOUS_TAG_SIZE_BYTES;
}

export function isKnownTagType(type: number): type is TagType {
  return type === TagType.Audio || type === TagType.Video || type === TagType.Script;
}

/**
 * Parses a whole FLV file held in memory. A torn tail (a crash mid-write) is
 * not an error: parsing stops at the last whole tag and says so. Tag data are
 * subarrays of `buf` (not copied). For files of any size, read them in chunks
 * with parseFlvHeader/readTagHeader (recovery/flv-file-scan.ts).
 */
export function parseFlv(buf: Buffer): ParsedFlv {
  const { hasAudio, hasVideo, firstTagOffset } = parseFlvHeader(buf);
  const tags: FlvTag[] = [];
  let pos = firstTagOffset;
  let validLength = Math.min(pos, buf.length);
  while (pos + TAG_HEADER_SIZE <= buf.length) {
    const { type, dataSize, timestamp } = readTagHeader(buf, pos);
    // A tag counts only with its trailing PreviousTagSize: that is what a clean write ends with.
    if (pos + tagSpan(dataSize) > buf.length) break;
    if (isKnownTagType(type)) tags.push({ type, timestamp, data: buf.subarray(pos + TAG_HEADER_SIZE, pos + TAG_HEADER_SIZE + dataSize) });
    pos += tagSpan(dataSize);
    validLength = pos;
  }
  return { hasAudio, hasVideo, tags, validLength, truncated: validLength < buf.length };
}
