/**
 * What the engine writes to the stdin of the ffmpeg that remuxes a file period
 * (-c copy to MP4 / ADTS / HLS). Two forms, chosen per recording by
 * `remuxFeedFormat` (codec-matrix.ts):
 *
 * - "flv": the tags themselves, as today, for H.264 / AAC / MP3, which every
 *   ffmpeg reads from FLV. Enhanced RTMP headers of those codecs (avc1, mp4a,
 *   .mp3) are rewritten to their legacy form, which FFmpeg < 7.1 reads; the
 *   payload bytes and timestamps are untouched.
 * - "matroska": for everything else (H.265 in either FLV form, AV1, Opus,
 *   H.266), which the FFmpeg builds here cannot read from FLV but read from
 *   Matroska. Configuration records become CodecPrivate, frames SimpleBlocks
 *   at pts = dts + composition time, in ms, exactly.
 *
 * Both are `Muxer`s (types.ts): pure, no I/O. They keep no reference to a
 * frame's bytes beyond the returned buffers, except frames held (briefly)
 * before the Matroska header can be written (see `MatroskaFeed`).
 */
import { encodeFlvHeader, encodeTag } from "../flv/flv-format.js";
import type { Frame } from "../flv/frame.js";
import type { AudioCodec, VideoCodec } from "../flv/tag-info.js";
import { tagPayload, toLegacyAudio, toLegacyVideo } from "../flv/tag-payload.js";
import {
  aacConfigFormat,
  type AudioFormat,
  av1Dimensions,
  avcCDimensions,
  avcCNalus,
  hvcCDimensions,
  hvcCNalus,
  mp3FrameFormat,
  type NalArrays,
  opusHeadFormat,
  type VideoDimensions,
} from "./codec-config.js";
import { MatroskaClusterWriter, type MatroskaTrack, matroskaHeader } from "./matroska-writer.js";
import type { Muxer, MuxerEnd } from "./types.js";

export type FeedFormat = "flv" | "matroska";

/**
 * A `Muxer` for an ffmpeg's stdin. It takes codec configs (in `begin`, and new
 * sequence headers between frames) and coded frames; `write` returns [] for
 * anything else (end of sequence, script data). `end` returns what is still held.
 */
export interface RemuxFeed extends Muxer {
  readonly format: FeedFormat;
}

export interface FeedTracks {
  video?: VideoCodec;
  audio?: AudioCodec;
  /** Picture size from the publisher's onMetaData, used when the config record cannot be read (H.266). */
  metadataSize?: VideoDimensions;
}

export function createRemuxFeed(format: FeedFormat, tracks: FeedTracks): RemuxFeed {
  return format === "flv" ? new FlvFeed(tracks.audio !== undefined, tracks.video !== undefined) : new MatroskaFeed(tracks);
}

/** FLV, with Enhanced RTMP headers of H.264 / AAC / MP3 rewritten to the legacy ones. */
export class FlvFeed implements RemuxFeed {
  readonly format = "flv";

  constructor(
    private readonly hasAudio: boolean,
    private readonly hasVideo: boolean,
  ) {}

  begin(configs: readonly Frame[]): Buffer[] {
    const out = [encodeFlvHeader(this.hasAudio, this.hasVideo)];
    for (const frame of configs) out.push(...this.tag(frame));
    return out;
  }

  write(frame: Frame): Buffer[] {
    return frame.kind === "config" || frame.kind === "frame" ? this.tag(frame) : [];
  }

  end(): MuxerEnd {
    return { bytes: [] };
  }

  private tag(frame: Frame): Buffer[] {
    if (frame.track === "data") return [];
    const { tag } = frame;
    const legacy = frame.track === "video" ? toLegacyVideo(tag, frame) : toLegacyAudio(tag, frame);
    // What has no legacy form (a MultichannelConfig, video Metadata) comes back as it was: it would only confuse an old demuxer.
    if (frame.enhanced && legacy === tag) return [];
    return encodeTag(legacy.type, legacy.timestamp, legacy.data);
  }
}

/** Matroska CodecID per codec (Matroska codec specs; "V_MPEGI/ISO/VVC" per the 2024 codec mapping). */
const VIDEO_CODEC_ID: Partial<Record<VideoCodec, string>> = {
  h264: "V_MPEG4/ISO/AVC",
  h265: "V_MPEGH/ISO/HEVC",
  h266: "V_MPEGI/ISO/VVC",
  av1: "V_AV1",
  vp9: "V_VP9",
  vp8: "V_VP8",
};
const AUDIO_CODEC_ID: Partial<Record<AudioCodec, string>> = {
  aac: "A_AAC",
  mp3: "A_MPEG/L3",
  opus: "A_OPUS",
  flac: "A_FLAC",
  ac3: "A_AC3",
  eac3: "A_EAC3",
};
const VIDEO_TRACK = 1;
const AUDIO_TRACK = 2;
/** Opus SeekPreRoll: 80 ms (Matroska codec mapping for A_OPUS). */
const OPUS_SEEK_PREROLL_NS = 80_000_000;
/** Frames held while waiting for what the header needs (an MP3 frame header, a video config); then it is written anyway. */
const MAX_HELD_FRAMES = 64;

interface HeldFrame {
  track: number;
  pts: number;
  key: boolean;
  data: Buffer;
}

/**
 * Matroska, written from the tag stream. The header is written once the
 * tracks are described: the config records (from `begin`) and, for codecs
 * whose parameters travel in the frames (MP3), the first frame. Frames that
 * arrive before that are held, in order (at most `MAX_HELD_FRAMES`).
 */
export class MatroskaFeed implements RemuxFeed {
  readonly format = "matroska";
  private readonly clusters = new MatroskaClusterWriter();
  private videoConfig: Buffer | undefined;
  private audioConfig: Buffer | undefined;
  private audioFormat: AudioFormat = {};
  private firstKeyframe: Buffer | undefined;
  private headerWritten = false;
  private held: HeldFrame[] = [];
  /** Parameter sets of a new video config to put in front of the next keyframe (H.264/H.265). */
  private inbandParameterSets: NalArrays | undefined;

  constructor(private readonly tracks: FeedTracks) {}

  begin(configs: readonly Frame[]): Buffer[] {
    for (const frame of configs) this.learnConfig(frame, false);
    return this.tryHeader(false);
  }

  write(frame: Frame): Buffer[] {
    if (frame.kind === "config") {
      this.learnConfig(frame, this.headerWritten);
      return this.tryHeader(false);
    }
    return frame.kind === "frame" ? this.frame(frame) : [];
  }

  end(): MuxerEnd {
    const bytes = this.headerWritten ? [] : this.tryHeader(true);
    bytes.push(...this.clusters.flush());
    return { bytes };
  }

  private frame(frame: Frame): Buffer[] {
    const split = tagPayload(frame.tag, frame);
    if (split?.info.kind !== "frame") return [];
    const isVideo = split.track === "video";
    if (isVideo ? this.tracks.video === undefined : this.tracks.audio === undefined) return [];
    let data = split.payload;
    const key = isVideo ? split.info.key : true;
    if (isVideo && key) {
      this.firstKeyframe ??= data;
      if (this.inbandParameterSets) {
        data = withParameterSets(this.inbandParameterSets, data);
        this.inbandParameterSets = undefined;
      }
    }
    if (!isVideo && this.audioFormat.sampleRate === undefined && this.tracks.audio === "mp3") this.audioFormat = mp3FrameFormat(data);
    const held: HeldFrame = { track: isVideo ? VIDEO_TRACK : AUDIO_TRACK, pts: frame.dts + split.info.cts, key, data };
    if (!this.headerWritten) {
      this.held.push(held);
      return this.tryHeader(this.held.length >= MAX_HELD_FRAMES);
    }
    return this.block(held);
  }

  private learnConfig(frame: Frame, midStream: boolean): void {
    const split = tagPayload(frame.tag, frame);
    if (split?.info.kind !== "config") return;
    if (split.track === "video") {
      if (midStream && this.videoConfig && !this.videoConfig.equals(split.payload)) {
        // Matroska has no mid-stream CodecPrivate: H.264/H.265 decoders take the new parameter sets in-band.
        const sets = this.tracks.video === "h264" ? avcCNalus(split.payload) : this.tracks.video === "h265" ? hvcCNalus(split.payload) : undefined;
        if (sets) this.inbandParameterSets = sets;
        return;
      }
      this.videoConfig = Buffer.from(split.payload);
    } else {
      if (midStream && this.audioConfig) return;
      this.audioConfig = Buffer.from(split.payload);
      if (this.tracks.audio === "aac") this.audioFormat = aacConfigFormat(this.audioConfig);
      else if (this.tracks.audio === "opus") this.audioFormat = opusHeadFormat(this.audioConfig);
    }
  }

  /** Writes the header (and what was held) once the tracks are described, or at once when `force`. */
  private tryHeader(force: boolean): Buffer[] {
    if (this.headerWritten) return [];
    const { video, audio } = this.tracks;
    const videoReady = video === undefined || this.videoConfig !== undefined || (video !== "h264" && video !== "h265" && video !== "h266" && this.firstKeyframe !== undefined);
    const audioReady = audio === undefined || (audio === "mp3" ? this.audioFormat.sampleRate !== undefined : this.audioConfig !== undefined);
    if (!force && !(videoReady && audioReady)) return [];
    this.headerWritten = true;
    const out = [matroskaHeader(this.describeTracks())];
    const held = this.held;
    this.held = [];
    for (const frame of held) out.push(...this.block(frame));
    return out;
  }

  private describeTracks(): MatroskaTrack[] {
    const tracks: MatroskaTrack[] = [];
    const { video, audio } = this.tracks;
    if (video !== undefined) {
      const t: MatroskaTrack = { number: VIDEO_TRACK, kind: "video", codecId: VIDEO_CODEC_ID[video] ?? "V_UNKNOWN" };
      if (this.videoConfig) t.codecPrivate = this.videoConfig;
      const size = this.videoDimensions();
      if (size.width && size.height) {
        t.width = size.width;
        t.height = size.height;
      }
      tracks.push(t);
    }
    if (audio !== undefined) {
      const t: MatroskaTrack = { number: AUDIO_TRACK, kind: "audio", codecId: AUDIO_CODEC_ID[audio] ?? "A_UNKNOWN" };
      if (this.audioConfig) t.codecPrivate = this.audioConfig;
      if (this.audioFormat.sampleRate) t.sampleRate = this.audioFormat.sampleRate;
      if (this.audioFormat.channels) t.channels = this.audioFormat.channels;
      if (audio === "opus") t.seekPreRollNs = OPUS_SEEK_PREROLL_NS;
      tracks.push(t);
    }
    return tracks;
  }

  private videoDimensions(): VideoDimensions {
    const config = this.videoConfig;
    let size: VideoDimensions = {};
    if (this.tracks.video === "h264" && config) size = avcCDimensions(config);
    else if (this.tracks.video === "h265" && config) size = hvcCDimensions(config);
    else if (this.tracks.video === "av1") size = av1Dimensions(config, this.firstKeyframe);
    return size.width && size.height ? size : (this.tracks.metadataSize ?? {});
  }

  private block(frame: HeldFrame): Buffer[] {
    const startCluster = frame.track === VIDEO_TRACK && frame.key;
    return this.clusters.block(frame.track, frame.pts, frame.key, frame.data, startCluster);
  }
}

/** A length-prefixed access unit with parameter sets in front (same NAL length size as the frames). */
function withParameterSets(sets: NalArrays, frame: Buffer): Buffer {
  const parts: Buffer[] = [];
  for (const nal of sets.nalus) {
    if (nal.length >= 2 ** (8 * sets.lengthSize)) continue; // cannot be framed with this length size (a bogus record)
    const len = Buffer.alloc(sets.lengthSize);
    len.writeUIntBE(nal.length, 0, sets.lengthSize);
    parts.push(len, nal);
  }
  parts.push(frame);
  return Buffer.concat(parts);
}
