/**
 * Reads an FLV file the way recovery needs it, in fixed-size chunks, never
 * whole (a recording can be larger than any Buffer): where the last whole tag
 * ends, the media time the file covers, and where onMetaData keeps its
 * duration. Only tag headers and the first bytes of each body are looked at;
 * a tag larger than a chunk is skipped over, not read.
 */
import { type FileHandle, open } from "node:fs/promises";
import { isKnownTagType, parseFlvHeader, readTagHeader, TAG_HEADER_SIZE, tagSpan } from "../flv/flv-format.js";
import { describeTag } from "../flv/tag-info.js";
import { TagType } from "../flv/types.js";
import { ONMETADATA_DURATION_KEY } from "../mux/flv-muxer.js";
import { MediaClock } from "../segment/media-clock.js";

/** Bytes read at a time. */
const CHUNK_BYTES = 1024 * 1024;
/** Body bytes enough for describeTag to tell a frame (Enhanced RTMP header + SI24 composition time: 8). */
const BODY_HEAD_BYTES = 16;
/** onMetaData's duration is an AMF0 number: a big-endian double. */
export const DURATION_BYTES = 8;
/** The first FLV bytes that hold the header, with room to spare. */
const HEADER_PROBE_BYTES = 64;

export interface FlvFileScan {
  /** Offset just after the last whole tag and its PreviousTagSize: where a torn file is cut. */
  validLength: number;
  /** Timing of the media frames up to `validLength`. */
  clock: MediaClock;
  /** File offset of the 8-byte duration number in the first tag's onMetaData, when it has one. */
  durationOffset?: number;
}

/** A forward-moving window on a file: serves byte ranges from the last chunk read, reading a new one when needed. */
class ChunkReader {
  private readonly buf: Buffer;
  private start = 0;
  private length = 0;

  constructor(
    private readonly fh: FileHandle,
    readonly chunkBytes: number,
  ) {
    this.buf = Buffer.allocUnsafe(chunkBytes);
  }

  /**
   * Up to `n` bytes (n <= chunk size) at file offset `offset`; fewer at the end of the file.
   * The returned buffer is valid until the next call.
   */
  async at(offset: number, n: number): Promise<Buffer> {
    if (offset < this.start || offset + n > this.start + this.length) {
      this.start = offset;
      this.length = 0;
      while (this.length < this.buf.length) {
        const { bytesRead } = await this.fh.read(this.buf, this.length, this.buf.length - this.length, offset + this.length);
        if (bytesRead === 0) break;
        this.length += bytesRead;
      }
    }
    const from = offset - this.start;
    return this.buf.subarray(from, Math.min(from + n, this.length));
  }
}

/** Scans the FLV file at `path`. Throws a ParseError when it is not FLV. */
export async function scanFlvFile(path: string, chunkBytes = CHUNK_BYTES): Promise<FlvFileScan> {
  const fh = await open(path, "r");
  try {
    const size = (await fh.stat()).size;
    const reader = new ChunkReader(fh, Math.max(chunkBytes, HEADER_PROBE_BYTES, TAG_HEADER_SIZE + BODY_HEAD_BYTES));
    const { firstTagOffset } = parseFlvHeader(await reader.at(0, HEADER_PROBE_BYTES), size);
    const clock = new MediaClock();
    const scan: FlvFileScan = { validLength: Math.min(firstTagOffset, size), clock };
    let first = true;
    let pos = firstTagOffset;
    while (pos + TAG_HEADER_SIZE <= size) {
      const head = await reader.at(pos, TAG_HEADER_SIZE + BODY_HEAD_BYTES);
      const { type, dataSize, timestamp } = readTagHeader(head, 0);
      // A tag counts only with its trailing PreviousTagSize: that is what a clean write ends with.
      if (pos + tagSpan(dataSize) > size) break;
      if (isKnownTagType(type)) {
        if (type !== TagType.Script) {
          const body = head.subarray(TAG_HEADER_SIZE, TAG_HEADER_SIZE + Math.min(dataSize, BODY_HEAD_BYTES));
          if (describeTag({ type, timestamp, data: body }).kind === "frame") clock.observe(type === TagType.Video, timestamp);
        } else if (first) {
          // onMetaData of any sane size fits a chunk; of a larger one, the first chunk is searched.
          const data = await reader.at(pos + TAG_HEADER_SIZE, Math.min(dataSize, reader.chunkBytes));
          const keyAt = data.indexOf(ONMETADATA_DURATION_KEY);
          if (keyAt >= 0 && keyAt + ONMETADATA_DURATION_KEY.length + DURATION_BYTES <= data.length) scan.durationOffset = pos + TAG_HEADER_SIZE + keyAt + ONMETADATA_DURATION_KEY.length;
        }
        first = false;
      }
      pos += tagSpan(dataSize);
      scan.validLength = pos;
    }
    return scan;
  } finally {
    await fh.close();
  }
}
