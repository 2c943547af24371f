/**
 * Reads what the engine needs to know from an FLV tag body without touching
 * the payload: which codec, whether it is a sequence header (codec config),
 * a keyframe, and its signed composition time offset.
 *
 * Legacy headers: FLV spec v10.1 E.4.2.1 (AUDIODATA) and E.4.3.1 (VIDEODATA).
 * Extended headers: Enhanced RTMP v2 (veovera/enhanced-rtmp) "ExVideoTagHeader"
 * and "ExAudioTagHeader".
 */
import { isOnMetaData } from "./on-metadata.js";
import { TagType, type FlvTag } from "./types.js";

export type VideoCodec = "h264" | "h265" | "h266" | "av1" | "vp9" | "vp8" | "unknown";
export type AudioCodec = "aac" | "mp3" | "opus" | "flac" | "ac3" | "eac3" | "unknown";

/** What a tag carries, for the segmenter and the muxers. */
export type TagKind = "config" | "frame" | "end-of-sequence" | "metadata" | "other";

export interface VideoTagInfo {
  track: "video";
  codec: VideoCodec;
  kind: TagKind;
  /** Keyframe (random access point). Only meaningful when kind is "frame". */
  key: boolean;
  /** Signed composition time offset in ms (pts = dts + cts). */
  cts: number;
  /** true when written with the Enhanced RTMP extended header. */
  enhanced: boolean;
}

export interface AudioTagInfo {
  track: "audio";
  codec: AudioCodec;
  kind: TagKind;
  key: true;
  cts: 0;
  enhanced: boolean;
  /**
   * An Enhanced RTMP MultichannelConfig packet (channel order and mapping). It is
   * kind "other", not "config": it must never replace the cached sequence header
   * (OpusHead, AudioSpecificConfig) that decoders need, as it does in servers that
   * cache "the last audio header".
   */
  multichannelConfig?: true;
}

export interface ScriptTagInfo {
  track: "data";
  kind: "metadata" | "other";
}

export type TagInfo = VideoTagInfo | AudioTagInfo | ScriptTagInfo;

/** E.4.3.1 FrameType values. */
const FrameType = { Key: 1, Inter: 2, Disposable: 3, GeneratedKey: 4, Command: 5 } as const;
/** E.4.3.1 CodecID values (12 is the widespread legacy HEVC extension, 13 the legacy AV1 one). */
const LegacyVideoCodecId: Record<number, VideoCodec> = { 7: "h264", 12: "h265", 13: "av1" };
/** E.4.3.1 AVCPacketType. */
const AvcPacketType = { SequenceHeader: 0, Nalu: 1, EndOfSequence: 2 } as const;
/** Enhanced RTMP VideoPacketType. */
const ExVideoPacketType = {
  SequenceStart: 0,
  CodedFrames: 1,
  SequenceEnd: 2,
  CodedFramesX: 3,
  Metadata: 4,
  Mpeg2TsSequenceStart: 5,
  Multitrack: 6,
  ModEx: 7,
} as const;
const EX_HEADER_FLAG = 0x80;
const VideoFourCc: Record<string, VideoCodec> = {
  avc1: "h264",
  hvc1: "h265",
  vvc1: "h266",
  av01: "av1",
  vp09: "vp9",
  vp08: "vp8",
};

/** E.4.2.1 SoundFormat values; 9 marks the Enhanced RTMP extended audio header. */
const SoundFormat = { Mp3: 2, ExHeader: 9, Aac: 10, Mp3At8k: 14 } as const;
const AacPacketType = { SequenceHeader: 0, Raw: 1 } as const;
/** Enhanced RTMP AudioPacketType. */
const ExAudioPacketType = { SequenceStart: 0, CodedFrames: 1, SequenceEnd: 2, MultichannelConfig: 4, Multitrack: 5, ModEx: 7 } as const;
const AudioFourCc: Record<string, AudioCodec> = {
  mp4a: "aac",
  ".mp3": "mp3",
  Opus: "opus",
  fLaC: "flac",
  "ac-3": "ac3",
  "ec-3": "eac3",
};

/** Sign-extends a 24-bit big-endian value (composition time is SI24: signed). */
function readSi24(buf: Buffer, offset: number): number {
  const v = buf.readUIntBE(offset, 3);
  return v & 0x800000 ? v - 0x1000000 : v;
}

function fourCc(buf: Buffer, offset: number): string {
  return buf.toString("latin1", offset, offset + 4);
}

export function describeVideo(data: Buffer): VideoTagInfo {
  const info: VideoTagInfo = { track: "video", codec: "unknown", kind: "other", key: false, cts: 0, enhanced: false };
  if (data.length < 1) return info;
  const b0 = data[0]!;
  if (b0 & EX_HEADER_FLAG) {
    info.enhanced = true;
    const frameType = (b0 >> 4) & 0x07;
    const packetType = b0 & 0x0f;
    if (packetType === ExVideoPacketType.Multitrack || packetType === ExVideoPacketType.ModEx || data.length < 5) {
      return info;
    }
    info.codec = VideoFourCc[fourCc(data, 1)] ?? "unknown";
    if (frameType === FrameType.Command) return info;
    info.key = frameType === FrameType.Key || frameType === FrameType.GeneratedKey;
    switch (packetType) {
      case ExVideoPacketType.SequenceStart:
      case ExVideoPacketType.Mpeg2TsSequenceStart:
        info.kind = "config";
        break;
      case ExVideoPacketType.CodedFrames:
        info.kind = "frame";
        // Only AVC/HEVC/VVC carry the SI24 composition time in CodedFrames.
        if ((info.codec === "h264" || info.codec === "h265" || info.codec === "h266") && data.length >= 8) {
          info.cts = readSi24(data, 5);
        }
        break;
      case ExVideoPacketType.CodedFramesX:
        info.kind = "frame";
        break;
      case ExVideoPacketType.SequenceEnd:
        info.kind = "end-of-sequence";
        break;
      case ExVideoPacketType.Metadata:
        info.kind = "metadata";
        break;
    }
    return info;
  }
  const frameType = b0 >> 4;
  info.codec = LegacyVideoCodecId[b0 & 0x0f] ?? "unknown";
  if (frameType === FrameType.Command) return info;
  info.key = frameType === FrameType.Key || frameType === FrameType.GeneratedKey;
  if (info.codec === "unknown") {
    // Older codecs (Sorenson, VP6, ...) have no packet type byte: every tag is a frame.
    info.kind = "frame";
    return info;
  }
  if (data.length < 2) return info;
  switch (data[1]) {
    case AvcPacketType.SequenceHeader:
      info.kind = "config";
      break;
    case AvcPacketType.Nalu:
      info.kind = "frame";
      if (data.length >= 5) info.cts = readSi24(data, 2);
      break;
    case AvcPacketType.EndOfSequence:
      info.kind = "end-of-sequence";
      break;
  }
  return info;
}

export function describeAudio(data: Buffer): AudioTagInfo {
  const info: AudioTagInfo = { track: "audio", codec: "unknown", kind: "other", key: true, cts: 0, enhanced: false };
  if (data.length < 1) return info;
  const soundFormat = data[0]! >> 4;
  if (soundFormat === SoundFormat.ExHeader) {
    info.enhanced = true;
    if (data.length < 5) return info;
    const packetType = data[0]! & 0x0f;
    // Multitrack and ModEx packets put other bytes where the FourCC would be.
    if (packetType === ExAudioPacketType.Multitrack || packetType === ExAudioPacketType.ModEx) return info;
    info.codec = AudioFourCc[fourCc(data, 1)] ?? "unknown";
    if (packetType === ExAudioPacketType.SequenceStart) info.kind = "config";
    else if (packetType === ExAudioPacketType.CodedFrames) info.kind = "frame";
    else if (packetType === ExAudioPacketType.SequenceEnd) info.kind = "end-of-sequence";
    else if (packetType === ExAudioPacketType.MultichannelConfig) info.multichannelConfig = true;
    return info;
  }
  if (soundFormat === SoundFormat.Aac) {
    info.codec = "aac";
    if (data.length < 2) return info;
    info.kind = data[1] === AacPacketType.SequenceHeader ? "config" : data[1] === AacPacketType.Raw ? "frame" : "other";
    return info;
  }
  if (soundFormat === SoundFormat.Mp3 || soundFormat === SoundFormat.Mp3At8k) info.codec = "mp3";
  info.kind = "frame";
  return info;
}

export function describeTag(tag: FlvTag): TagInfo {
  switch (tag.type) {
    case TagType.Video:
      return describeVideo(tag.data);
    case TagType.Audio:
      return describeAudio(tag.data);
    default:
      return { track: "data", kind: isOnMetaData(tag.data) ? "metadata" : "other" };
  }
}
