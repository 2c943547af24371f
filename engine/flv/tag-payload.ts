/**
 * The codec bytes inside an FLV tag body, and lossless rewrites of the tag
 * header between its legacy and Enhanced RTMP forms. Payloads (NAL units,
 * OBUs, audio frames, configuration records) are never touched: only the
 * 1-8 header bytes in front of them change.
 *
 * Header layouts: FLV spec v10.1 E.4.2.1 / E.4.3.1 (legacy, with the de-facto
 * codec id 12 for HEVC, laid out like AVC), Enhanced RTMP v2 ExVideoTagHeader /
 * ExAudioTagHeader (veovera/enhanced-rtmp).
 */
import { type AudioTagInfo, describeAudio, describeVideo, type TagInfo, type VideoTagInfo } from "./tag-info.js";
import { type FlvTag, TagType } from "./types.js";

/** Bytes of the tag header in front of the codec payload, or undefined for tags without one (commands, multitrack...). */
function videoHeaderLength(data: Buffer, info: VideoTagInfo): number | undefined {
  if (info.kind !== "config" && info.kind !== "frame" && info.kind !== "end-of-sequence") return undefined;
  if (info.enhanced) {
    const packetType = data[0]! & 0x0f;
    // CodedFrames of AVC/HEVC/VVC carry an SI24 composition time after the FourCC.
    const withCts = packetType === 1 && (info.codec === "h264" || info.codec === "h265" || info.codec === "h266");
    return withCts ? 8 : 5;
  }
  return info.codec === "h264" || info.codec === "h265" || info.codec === "av1" ? 5 : 1;
}

function audioHeaderLength(info: AudioTagInfo): number | undefined {
  if (info.kind !== "config" && info.kind !== "frame") return undefined;
  if (info.enhanced) return 5;
  return info.codec === "aac" ? 2 : 1;
}

export interface TagPayload {
  track: "video" | "audio";
  info: VideoTagInfo | AudioTagInfo;
  /** The codec bytes: a configuration record for "config" tags, a coded frame for "frame" tags. */
  payload: Buffer;
}

/** The tag's description: the one given (a Frame is one), or read from the header when there is none. */
function videoInfo(tag: FlvTag, described: TagInfo | undefined): VideoTagInfo {
  return described?.track === "video" ? described : describeVideo(tag.data);
}
function audioInfo(tag: FlvTag, described: TagInfo | undefined): AudioTagInfo {
  return described?.track === "audio" ? described : describeAudio(tag.data);
}

/**
 * Splits a media tag into what it describes and its codec bytes. Undefined for script tags and headerless packets.
 * `described`: the tag's description when the caller has it (a Frame), so the header is not read again.
 */
export function tagPayload(tag: FlvTag, described?: TagInfo): TagPayload | undefined {
  if (tag.type === TagType.Video) {
    const info = videoInfo(tag, described);
    const len = videoHeaderLength(tag.data, info);
    if (len === undefined || tag.data.length < len) return undefined;
    return { track: "video", info, payload: tag.data.subarray(len) };
  }
  if (tag.type === TagType.Audio) {
    const info = audioInfo(tag, described);
    const len = audioHeaderLength(info);
    if (len === undefined || tag.data.length < len) return undefined;
    return { track: "audio", info, payload: tag.data.subarray(len) };
  }
  return undefined;
}

const LEGACY_VIDEO_ID: Partial<Record<VideoTagInfo["codec"], number>> = { h264: 7, h265: 12 };
const ENHANCED_VIDEO_FOURCC: Partial<Record<VideoTagInfo["codec"], string>> = { h264: "avc1", h265: "hvc1" };

function si24(cts: number): Buffer {
  const b = Buffer.alloc(3);
  b.writeIntBE(cts, 0, 3);
  return b;
}

/**
 * An AVC/HEVC video tag with the legacy header (codec id 7 / 12), or the tag
 * itself when it already has one or has no legacy equivalent (Metadata packets).
 * `described` as in `tagPayload` (likewise below).
 */
export function toLegacyVideo(tag: FlvTag, described?: TagInfo): FlvTag {
  const info = videoInfo(tag, described);
  const id = LEGACY_VIDEO_ID[info.codec];
  if (!info.enhanced || id === undefined) return tag;
  const split = tagPayload(tag, info);
  if (!split) return tag;
  const frameType = (tag.data[0]! >> 4) & 0x07;
  const packetType = info.kind === "config" ? 0 : info.kind === "frame" ? 1 : 2;
  const head = Buffer.from([(frameType << 4) | id, packetType]);
  return { ...tag, data: Buffer.concat([head, si24(info.kind === "frame" ? info.cts : 0), split.payload]) };
}

/** An AVC/HEVC video tag with the Enhanced RTMP header (FourCC avc1 / hvc1), or the tag itself. */
export function toEnhancedVideo(tag: FlvTag, described?: TagInfo): FlvTag {
  const info = videoInfo(tag, described);
  const fourCc = ENHANCED_VIDEO_FOURCC[info.codec];
  if (info.enhanced || fourCc === undefined) return tag;
  const split = tagPayload(tag, info);
  if (!split) return tag;
  const frameType = (tag.data[0]! >> 4) & 0x07;
  const fourCcBytes = Buffer.from(fourCc, "latin1");
  if (info.kind === "frame") {
    return { ...tag, data: Buffer.concat([Buffer.from([0x80 | (frameType << 4) | 1]), fourCcBytes, si24(info.cts), split.payload]) };
  }
  const packetType = info.kind === "config" ? 0 : 2;
  return { ...tag, data: Buffer.concat([Buffer.from([0x80 | (frameType << 4) | packetType]), fourCcBytes, split.payload]) };
}

/** FLV SoundRate index for an MP3 frame's sample rate (E.4.2.1: 0 = 5.5 kHz ... 3 = 44 kHz). */
function mp3SoundRate(frame: Buffer): { rate: number; stereo: boolean } {
  if (frame.length < 4 || frame[0] !== 0xff || (frame[1]! & 0xe0) !== 0xe0) return { rate: 3, stereo: true };
  const version = (frame[1]! >> 3) & 0x03;
  const stereo = frame[3]! >> 6 !== 3;
  return { rate: version === 3 ? 3 : version === 2 ? 2 : 1, stereo };
}

/**
 * An AAC/MP3 audio tag with the legacy header (SoundFormat 10 / 2), or the tag
 * itself when it already has one or the codec has no legacy form.
 */
export function toLegacyAudio(tag: FlvTag, described?: TagInfo): FlvTag {
  const info = audioInfo(tag, described);
  if (!info.enhanced) return tag;
  const split = tagPayload(tag, info);
  if (!split) return tag;
  if (info.codec === "aac") {
    // AAC is always written as 44 kHz, 16-bit, stereo (E.4.2.1); the AudioSpecificConfig has the truth.
    return { ...tag, data: Buffer.concat([Buffer.from([0xaf, info.kind === "config" ? 0 : 1]), split.payload]) };
  }
  if (info.codec === "mp3" && info.kind === "frame") {
    const { rate, stereo } = mp3SoundRate(split.payload);
    return { ...tag, data: Buffer.concat([Buffer.from([(2 << 4) | (rate << 2) | (1 << 1) | (stereo ? 1 : 0)]), split.payload]) };
  }
  return tag;
}
