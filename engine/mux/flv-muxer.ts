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
import { describeVideo } from "../flv/tag-info.js";
import { toEnhancedVideo, toLegacyVideo } from "../flv/tag-payload.js";
import { TagType, type FlvTag } from "../flv/types.js";
import { type Amf0Object, decodeAmf0, encodeAmf0, encodeEcmaArray } from "../rtmp/amf0.js";
import { MediaClock } from "../segment/media-clock.js";
import { timestampDelta } from "../segment/segmenter.js";
import type { FlvHevcMode } from "./types.js";

/** onMetaData keys that describe one file, not the stream: we write our own. */
const PER_FILE_KEYS = new Set(["duration", "filesize", "lasttimestamp", "lastkeyframetimestamp", "keyframes", "times", "filepositions"]);
/** The AMF0 bytes of the "duration" key inside an ECMA array: UI16 length 8, then the name, then the number marker. */
export const ONMETADATA_DURATION_KEY = Buffer.concat([Buffer.from([0x00, 0x08]), Buffer.from("duration", "latin1"), Buffer.from([0x00])]);

/** Publisher metadata worth carrying into every file (width, height, codec ids, encoder...). */
export function metadataFields(scriptTagData: Buffer | undefined): Amf0Object {
  if (!scriptTagData) return {};
  try {
    const values = decodeAmf0(scriptTagData);
    const index = values.indexOf("onMetaData");
    const obj = values[index + 1];
    if (index < 0 || typeof obj !== "object" || obj === null || Array.isArray(obj) || obj instanceof Date) return {};
    const out: Amf0Object = {};
    // "__proto__" would set the copy's prototype instead of a field: publisher metadata must stay plain data.
    for (const [k, v] of Object.entries(obj)) if (!PER_FILE_KEYS.has(k) && k !== "__proto__") out[k] = v;
    return out;
  } catch {
    return {}; // bad publisher metadata must not stop the recording
  }
}

export interface FlvPatch {
  offset: number;
  bytes: Buffer;
}

export class FlvMuxer {
  private base: number | undefined;
  private readonly clock = new MediaClock();
  private durationOffset = -1;
  bytesWritten = 0;
  tagsWritten = 0;
  clampedTimestamps = 0;

  constructor(
    private readonly hasAudio: boolean,
    private readonly hasVideo: boolean,
    private readonly metadata: Amf0Object,
    private readonly hevcMode?: FlvHevcMode,
  ) {}

  /** The file's opening bytes: header, onMetaData (duration 0 until `finish`), then the codec config tags at 0. */
  begin(configTags: readonly FlvTag[]): Buffer[] {
    const header = encodeFlvHeader(this.hasAudio, this.hasVideo);
    const meta = Buffer.concat([encodeAmf0("onMetaData"), encodeEcmaArray({ duration: 0, ...this.metadata })]);
    const keyAt = meta.indexOf(ONMETADATA_DURATION_KEY);
    this.durationOffset = FLV_HEADER_SIZE + PREVIOUS_TAG_SIZE_BYTES + TAG_HEADER_SIZE + keyAt + ONMETADATA_DURATION_KEY.length;
    const out = [header, ...encodeTag(TagType.Script, 0, meta)];
    for (const tag of configTags) out.push(...encodeTag(tag.type, 0, this.convert(tag).data));
    this.count(out);
    return out;
  }

  /** Frames one tag (media, config or script), rebased to the file's first media tag. Keeps no reference to `tag`. */
  write(tag: FlvTag, isMediaFrame: boolean): Buffer[] {
    if (this.base === undefined) {
      if (!isMediaFrame) return this.frame(tag, 0);
      this.base = tag.timestamp;
    }
    let ts = timestampDelta(tag.timestamp, this.base);
    if (ts < 0) {
      this.clampedTimestamps++;
      ts = 0;
    }
    if (isMediaFrame) this.clock.observe(tag.type === TagType.Video, ts);
    return this.frame(tag, ts);
  }

  /** Media time covered so far, in ms: last timestamp plus one video frame, as players count it. */
  get durationMs(): number {
    return this.clock.durationMs;
  }

  /** The patch to apply in place once the file is complete: the real duration in onMetaData. */
  finish(): FlvPatch {
    const bytes = Buffer.alloc(8);
    bytes.writeDoubleBE(this.durationMs / 1000);
    return { offset: this.durationOffset, bytes };
  }

  /** The tag in the configured H.265 header form (other tags as they are). */
  private convert(tag: FlvTag): FlvTag {
    if (!this.hevcMode || tag.type !== TagType.Video || describeVideo(tag.data).codec !== "h265") return tag;
    return this.hevcMode === "legacy" ? toLegacyVideo(tag) : toEnhancedVideo(tag);
  }

  private frame(tag: FlvTag, ts: number): Buffer[] {
    const out = encodeTag(tag.type, ts, this.convert(tag).data);
    this.count(out);
    return out;
  }

  private count(chunks: Buffer[]): void {
    for (const c of chunks) this.bytesWritten += c.length;
    this.tagsWritten++;
  }
}
