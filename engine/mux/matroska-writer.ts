/**
 * A minimal streaming Matroska writer: the container the engine hands ffmpeg
 * when what the publisher sent (Enhanced RTMP H.265/AV1/Opus, legacy id 12
 * H.265) is something the ffmpeg it runs cannot read from FLV. Pure: returns
 * bytes, does no I/O, never copies a frame's payload.
 *
 * Layout, as ffmpeg's own Matroska muxer writes to a pipe (which every
 * ffmpeg since 4.x demuxes): EBML header, a Segment of unknown size, Info
 * (TimestampScale 1 ms: FLV timestamps are kept exactly), Tracks (CodecID +
 * CodecPrivate straight from the FLV sequence headers), then Clusters of
 * known size holding SimpleBlocks. A block carries the presentation time
 * (dts + composition time) and the keyframe flag.
 *
 * References: RFC 9559 (Matroska), RFC 8794 (EBML), the Matroska codec
 * mappings (codec/av1.md, the "V_MPEGH/ISO/HEVC" and "A_OPUS" entries).
 */

/** EBML / Matroska element ids (RFC 8794 §11.2, RFC 9559 §5.1). */
export const MkvId = {
  EBML: 0x1a45dfa3,
  EBMLVersion: 0x4286,
  EBMLReadVersion: 0x42f7,
  EBMLMaxIDLength: 0x42f2,
  EBMLMaxSizeLength: 0x42f3,
  DocType: 0x4282,
  DocTypeVersion: 0x4287,
  DocTypeReadVersion: 0x4285,
  Segment: 0x18538067,
  Info: 0x1549a966,
  TimestampScale: 0x2ad7b1,
  MuxingApp: 0x4d80,
  WritingApp: 0x5741,
  Tracks: 0x1654ae6b,
  TrackEntry: 0xae,
  TrackNumber: 0xd7,
  TrackUID: 0x73c5,
  TrackType: 0x83,
  FlagLacing: 0x9c,
  CodecID: 0x86,
  CodecPrivate: 0x63a2,
  SeekPreRoll: 0x56bb,
  Video: 0xe0,
  PixelWidth: 0xb0,
  PixelHeight: 0xba,
  Audio: 0xe1,
  SamplingFrequency: 0xb5,
  Channels: 0x9f,
  Cluster: 0x1f43b675,
  Timestamp: 0xe7,
  SimpleBlock: 0xa3,
} as const;

/** Segment size "unknown" (all value bits set, 8-byte vint): the stream ends when the input does. */
const UNKNOWN_SIZE = Buffer.from([0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
const TIMESTAMP_SCALE_NS = 1_000_000;
/** SimpleBlock timestamps are signed 16-bit offsets from their Cluster's timestamp. */
const BLOCK_OFFSET_MIN = -0x8000;
const BLOCK_OFFSET_MAX = 0x7fff;
const SIMPLEBLOCK_KEY = 0x80;

/** An element id as written: its own length marker is part of the id. */
function idBytes(id: number): Buffer {
  const len = id > 0xffffff ? 4 : id > 0xffff ? 3 : id > 0xff ? 2 : 1;
  const b = Buffer.alloc(len);
  b.writeUIntBE(id, 0, len);
  return b;
}

/** An element data size as the shortest EBML variable-size integer (RFC 8794 §4). */
export function vintSize(n: number): Buffer {
  for (let len = 1; len <= 8; len++) {
    // All-ones is reserved for "unknown", hence the - 1.
    if (n < 2 ** (7 * len) - 1) {
      const b = Buffer.alloc(len);
      let v = n;
      for (let i = len - 1; i >= 0; i--) {
        b[i] = v % 256;
        v = Math.floor(v / 256);
      }
      b[0]! |= 0x80 >> (len - 1);
      return b;
    }
  }
  throw new RangeError(`EBML size ${n} too large`);
}

function element(id: number, payload: Buffer | readonly Buffer[]): Buffer {
  const body = Buffer.isBuffer(payload) ? payload : Buffer.concat(payload);
  return Buffer.concat([idBytes(id), vintSize(body.length), body]);
}

function uintElement(id: number, value: number): Buffer {
  let len = 1;
  while (len < 8 && value >= 2 ** (8 * len)) len++;
  const b = Buffer.alloc(len);
  let v = value;
  for (let i = len - 1; i >= 0; i--) {
    b[i] = v % 256;
    v = Math.floor(v / 256);
  }
  return element(id, b);
}

function floatElement(id: number, value: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeDoubleBE(value);
  return element(id, b);
}

function stringElement(id: number, value: string): Buffer {
  return element(id, Buffer.from(value, "latin1"));
}

export interface MatroskaTrack {
  /** 1-based track number, as blocks refer to it. */
  number: number;
  kind: "video" | "audio";
  /** Matroska CodecID, e.g. "V_MPEGH/ISO/HEVC". */
  codecId: string;
  /** The codec configuration record (avcC, hvcC, av1C, OpusHead, AudioSpecificConfig). */
  codecPrivate?: Buffer;
  width?: number;
  height?: number;
  sampleRate?: number;
  channels?: number;
  /** Opus: 80 ms, as the Matroska Opus mapping asks. */
  seekPreRollNs?: number;
}

/** EBML header + the start of a Segment of unknown size + Info + Tracks. */
export function matroskaHeader(tracks: readonly MatroskaTrack[], writingApp = "live-recorder"): Buffer {
  const ebml = element(MkvId.EBML, [
    uintElement(MkvId.EBMLVersion, 1),
    uintElement(MkvId.EBMLReadVersion, 1),
    uintElement(MkvId.EBMLMaxIDLength, 4),
    uintElement(MkvId.EBMLMaxSizeLength, 8),
    stringElement(MkvId.DocType, "matroska"),
    uintElement(MkvId.DocTypeVersion, 4),
    uintElement(MkvId.DocTypeReadVersion, 2),
  ]);
  const info = element(MkvId.Info, [
    uintElement(MkvId.TimestampScale, TIMESTAMP_SCALE_NS),
    stringElement(MkvId.MuxingApp, writingApp),
    stringElement(MkvId.WritingApp, writingApp),
  ]);
  const entries = tracks.map((t) => {
    const parts = [
      uintElement(MkvId.TrackNumber, t.number),
      uintElement(MkvId.TrackUID, t.number),
      uintElement(MkvId.TrackType, t.kind === "video" ? 1 : 2),
      uintElement(MkvId.FlagLacing, 0),
      stringElement(MkvId.CodecID, t.codecId),
    ];
    if (t.codecPrivate && t.codecPrivate.length > 0) parts.push(element(MkvId.CodecPrivate, t.codecPrivate));
    if (t.seekPreRollNs !== undefined) parts.push(uintElement(MkvId.SeekPreRoll, t.seekPreRollNs));
    if (t.kind === "video") {
      const video: Buffer[] = [];
      if (t.width) video.push(uintElement(MkvId.PixelWidth, t.width));
      if (t.height) video.push(uintElement(MkvId.PixelHeight, t.height));
      parts.push(element(MkvId.Video, video));
    } else {
      const audio: Buffer[] = [];
      if (t.sampleRate) audio.push(floatElement(MkvId.SamplingFrequency, t.sampleRate));
      if (t.channels) audio.push(uintElement(MkvId.Channels, t.channels));
      parts.push(element(MkvId.Audio, audio));
    }
    return element(MkvId.TrackEntry, parts);
  });
  return Buffer.concat([ebml, idBytes(MkvId.Segment), UNKNOWN_SIZE, info, element(MkvId.Tracks, entries)]);
}

/**
 * Groups blocks into Clusters. A Cluster is emitted whole (its size is known)
 * when the next block starts a new one: a video keyframe, a block too far
 * from the cluster's timestamp for the 16-bit offset, or a cluster older
 * than `maxClusterMs` (which bounds how long ffmpeg waits for data).
 */
export class MatroskaClusterWriter {
  private parts: Buffer[] = [];
  private bytes = 0;
  private clusterTs: number | undefined;
  blocks = 0;

  constructor(private readonly maxClusterMs = 500) {}

  /**
   * Adds one frame. `ptsMs` is the presentation time in ms (negative down to
   * -32768, as far as a block offset reaches below a cluster at 0). Returns the
   * bytes of the cluster this block closed, if any (empty otherwise).
   */
  block(track: number, ptsMs: number, key: boolean, data: Buffer, startCluster: boolean): Buffer[] {
    let out: Buffer[] = [];
    if (this.clusterTs !== undefined) {
      const offset = ptsMs - this.clusterTs;
      if (startCluster || offset > this.maxClusterMs || offset < BLOCK_OFFSET_MIN || offset > BLOCK_OFFSET_MAX) out = this.flush();
    }
    if (this.clusterTs === undefined) this.clusterTs = Math.max(0, ptsMs);
    // Only a presentation time below -32.768 s (a bogus composition time) cannot be written: it is clamped.
    const offset = Math.max(BLOCK_OFFSET_MIN, ptsMs - this.clusterTs);
    const head = Buffer.allocUnsafe(4);
    head[0] = 0x80 | track; // track number as a 1-byte vint (tracks 1..126)
    head.writeInt16BE(offset, 1);
    head[3] = key ? SIMPLEBLOCK_KEY : 0;
    const size = vintSize(head.length + data.length);
    const prefix = Buffer.concat([idBytes(MkvId.SimpleBlock), size, head]);
    this.parts.push(prefix, data);
    this.bytes += prefix.length + data.length;
    this.blocks++;
    return out;
  }

  /** Closes the current cluster: its bytes, or nothing when it is empty. */
  flush(): Buffer[] {
    if (this.clusterTs === undefined) return [];
    const ts = uintElement(MkvId.Timestamp, this.clusterTs);
    const head = Buffer.concat([idBytes(MkvId.Cluster), vintSize(ts.length + this.bytes), ts]);
    const out = [head, ...this.parts];
    this.parts = [];
    this.bytes = 0;
    this.clusterTs = undefined;
    return out;
  }
}
