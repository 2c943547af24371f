/**
 * Frames one recorded FLV file, tag for tag. Pure: returns the bytes to write
 * and, at the end, the in-place patch that sets the real duration.
 *
 * Timestamps: each file is rebased so its first media tag is at 0 (players
 * show 0..duration per file, as nginx-rtmp's recorder does). Payloads are
 * never touched. A tag that arrives after the file's first media tag with an
 * earlier timestamp (interleaving jitter) would go negative: it is written at
 * 0 and counted in `clampedTimestamps`.
 *
 * H.265 header form: with a `hevcMode`, H.265 video tags are written with the
 * Enhanced RTMP header (hvc1) or the legacy codec id 12 header, whichever way
 * they were pushed; only the header bytes change (tag-payload.ts).
 */
import { encodeFlvHeader, encodeTag, FLV_HEADER_SIZE, PREVIOUS_TAG_SIZE_BYTES, TAG_HEADER_SIZE } from "../flv/flv-format.js";
import type { Frame } from "../flv/frame.js";
import { toEnhancedVideo, toLegacyVideo } from "../flv/tag-payload.js";
import { TagType, type FlvTag } from "../flv/types.js";
import { type Amf0Object, encodeAmf0, encodeEcmaArray } from "../rtmp/amf0.js";
import { MediaClock } from "../segment/media-clock.js";
import { timestampDelta } from "../segment/segmenter.js";
import type { FlvHevcMode, Muxer, MuxerEnd } from "./types.js";

/** The AMF0 bytes of the "duration" key inside an ECMA array: UI16 length 8, then the name, then the number marker. */
export const ONMETADATA_DURATION_KEY = Buffer.concat([Buffer.from([0x00, 0x08]), Buffer.from("duration", "latin1"), Buffer.from([0x00])]);

export class FlvMuxer implements Muxer {
  private base: number | undefined;
  private readonly clock = new MediaClock();
  private durationOffset = -1;
  bytesWritten = 0;
  tagsWritten = 0;
  clampedTimestamps = 0;

  constructor(
    private readonly hasAudio: boolean,
    private readonly hasVideo: boolean,
    /** The publisher's onMetaData fields (flv/on-metadata.ts), written into the file's own onMetaData. */
    private readonly metadata: Amf0Object,
    private readonly hevcMode?: FlvHevcMode,
  ) {}

  /** The file's opening bytes: header, onMetaData (duration 0 until `finish`), then the codec config tags at 0. */
  begin(configs: readonly Frame[]): Buffer[] {
    const header = encodeFlvHeader(this.hasAudio, this.hasVideo);
    const meta = Buffer.concat([encodeAmf0("onMetaData"), encodeEcmaArray({ duration: 0, ...this.metadata })]);
    const keyAt = meta.indexOf(ONMETADATA_DURATION_KEY);
    this.durationOffset = FLV_HEADER_SIZE + PREVIOUS_TAG_SIZE_BYTES + TAG_HEADER_SIZE + keyAt + ONMETADATA_DURATION_KEY.length;
    const out = [header, ...encodeTag(TagType.Script, 0, meta)];
    for (const frame of configs) out.push(...encodeTag(frame.tag.type, 0, this.convert(frame).data));
    this.count(out);
    return out;
  }

  /** Frames one frame (media, config or script), rebased to the file's first media frame. Keeps no reference to it. */
  write(frame: Frame): Buffer[] {
    const isMediaFrame = frame.kind === "frame";
    if (this.base === undefined) {
      if (!isMediaFrame) return this.frame(frame, 0);
      this.base = frame.dts;
    }
    let ts = timestampDelta(frame.dts, this.base);
    if (ts < 0) {
      this.clampedTimestamps++;
      ts = 0;
    }
    if (isMediaFrame) this.clock.observe(frame.track === "video", ts);
    return this.frame(frame, ts);
  }

  /** Media time covered so far, in ms: last timestamp plus one video frame, as players count it. */
  get durationMs(): number {
    return this.clock.durationMs;
  }

  /** No trailing bytes; the patch to apply in place once the file is complete: the real duration in onMetaData. */
  end(): MuxerEnd {
    const bytes = Buffer.alloc(8);
    bytes.writeDoubleBE(this.durationMs / 1000);
    return { bytes: [], patch: { offset: this.durationOffset, bytes } };
  }

  /** The tag in the configured H.265 header form (other tags as they are). */
  private convert(frame: Frame): FlvTag {
    if (!this.hevcMode || frame.track !== "video" || frame.codec !== "h265") return frame.tag;
    return this.hevcMode === "legacy" ? toLegacyVideo(frame.tag, frame) : toEnhancedVideo(frame.tag, frame);
  }

  private frame(frame: Frame, ts: number): Buffer[] {
    const out = encodeTag(frame.tag.type, ts, this.convert(frame).data);
    this.count(out);
    return out;
  }

  private count(chunks: Buffer[]): void {
    for (const c of chunks) this.bytesWritten += c.length;
    this.tagsWritten++;
  }
}
